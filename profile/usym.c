/* usym.c: user-space symbols by elfutils libdwfl (usym.h). */
#include "profile/usym.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USYM_MAX_EXEC 512

struct usym_proc {
	pid_t pid;
	Dwfl *dwfl;
	char exe[PATH_MAX];	/* /proc/PID/exe when added */
	/* Executable mappings: a frame outside them is no code at all (a
	 * frame-pointer walk that went astray), whatever libdwfl's module
	 * ranges, which span data and gaps too, would say. */
	struct { uint64_t lo, hi; } x[USYM_MAX_EXEC];
	int nx;
};

struct usym {
	struct usym_proc p[USYM_MAX_PIDS];
	int n;
};

/* Files by path (their mappings are in /proc/PID/maps), separate debug
 * files by build id under the default /usr/lib/debug. */
static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

int usym_new(struct usym **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void usym_free(struct usym *u)
{
	int i;

	if (!u)
		return;
	for (i = 0; i < u->n; i++)
		dwfl_end(u->p[i].dwfl);
	free(u);
}

static struct usym_proc *find(const struct usym *u, pid_t pid)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (u->p[i].pid == pid)
			return (struct usym_proc *)&u->p[i];
	return NULL;
}

bool usym_knows(const struct usym *u, pid_t pid)
{
	return u && find(u, pid) != NULL;
}

/* Opens the module's ELF file now, while the mapping it came from is
 * still the one on disk (see usym.h). */
static int open_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
		    void *arg)
{
	Dwarf_Addr bias;

	(void)userdata;
	(void)name;
	(void)start;
	(void)arg;
	dwfl_module_getelf(mod, &bias);
	return DWARF_CB_OK;
}

int usym_add_pid(struct usym *u, pid_t pid)
{
	struct usym_proc *p;
	char link[64];
	ssize_t n;
	int rc;

	if (find(u, pid))
		return 0;
	if (u->n >= USYM_MAX_PIDS)
		return -ENOSPC;
	p = &u->p[u->n];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->dwfl = dwfl_begin(&proc_callbacks);
	if (!p->dwfl)
		return -ENOMEM;
	dwfl_report_begin(p->dwfl);
	rc = dwfl_linux_proc_report(p->dwfl, pid);
	dwfl_report_end(p->dwfl, NULL, NULL);
	if (rc != 0) {
		/* errno from reading /proc/PID/maps, or -1 for a libdwfl error */
		dwfl_end(p->dwfl);
		p->dwfl = NULL;
		return rc > 0 ? (rc == ENOENT ? -ESRCH : -rc) : -ESRCH;
	}
	snprintf(link, sizeof(link), "/proc/%d/maps", (int)pid);
	{
		FILE *f = fopen(link, "re");
		char line[512], perm[8];
		unsigned long long lo, hi;

		while (f && fgets(line, sizeof(line), f) && p->nx < USYM_MAX_EXEC)
			if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perm) == 3 && perm[2] == 'x') {
				p->x[p->nx].lo = lo;
				p->x[p->nx].hi = hi;
				p->nx++;
			}
		if (f)
			fclose(f);
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, p->exe, sizeof(p->exe) - 1);
	p->exe[n > 0 ? n : 0] = 0;
	dwfl_getmodules(p->dwfl, open_elf, NULL, 0);
	u->n++;
	return 0;
}

static bool in_exec(const struct usym_proc *p, uint64_t addr)
{
	int i;

	for (i = 0; i < p->nx; i++)
		if (addr >= p->x[i].lo && addr < p->x[i].hi)
			return true;
	return false;
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path ? path : "";
}

int usym_name(struct usym *u, pid_t pid, uint64_t addr, char *buf, size_t len,
	      const char **module)
{
	struct usym_proc *p = find(u, pid);
	Dwfl_Module *mod;
	const char *sym, *mname;
	Dwarf_Addr start = 0;
	GElf_Off off = 0;
	GElf_Sym s;

	if (module)
		*module = "";
	mod = p && in_exec(p, addr) ? dwfl_addrmodule(p->dwfl, addr) : NULL;
	if (!mod) {
		snprintf(buf, len, "[unknown]");
		return -ENOENT;
	}
	mname = base_name(dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL));
	/* libdwfl calls it "[vdso: PID]": one name for every process */
	if (!strncmp(mname, "[vdso", 5))
		mname = "[vdso]";
	if (module)
		*module = mname;
	sym = dwfl_module_addrinfo(mod, addr, &off, &s, NULL, NULL, NULL);
	/* A symbol of size 0 only says where something starts (an assembler
	 * label): a sample far past it is not known to be in it. */
	if (sym && *sym && (s.st_size || off == 0)) {
		snprintf(buf, len, "%s", sym);
		return 1;
	}
	snprintf(buf, len, "%s+0x%llx", mname, (unsigned long long)(addr - start));
	return 0;
}

struct main_find {
	const char *exe;
	Dwfl_Module *mod;
};

static int match_exe(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
		     void *arg)
{
	struct main_find *m = arg;
	const char *file = NULL;

	(void)userdata;
	(void)start;
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &file, NULL);
	if ((file && !strcmp(file, m->exe)) || (name && !strcmp(name, m->exe))) {
		m->mod = mod;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

int usym_main_has_symbols(struct usym *u, pid_t pid, char *name, size_t len)
{
	struct usym_proc *p = find(u, pid);
	struct main_find m = { NULL, NULL };
	GElf_Sym s;
	int i, n;

	if (!p)
		return -ENOENT;
	snprintf(name, len, "%s", base_name(p->exe));
	m.exe = p->exe;
	dwfl_getmodules(p->dwfl, match_exe, &m, 0);
	if (!m.mod)
		return 0;
	/* .symtab, else .dynsym (libdwfl picks the best it finds, also in
	 * a separate debug file): any function in it will do. */
	n = dwfl_module_getsymtab(m.mod);
	for (i = 1; i < n; i++)
		if (dwfl_module_getsym(m.mod, i, &s, NULL) && GELF_ST_TYPE(s.st_info) == STT_FUNC &&
		    s.st_shndx != SHN_UNDEF)
			return 1;
	return 0;
}
