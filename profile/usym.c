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
	bool attached;		/* dwfl_attach_state done: can unwind */
	/* the sample being unwound (usym_unwind) */
	pid_t tid;
	const uint64_t *regs;
	const unsigned char *stack;
	uint64_t sp;
	size_t len;
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

/* ---- unwinding a sampled stack (x86-64) ---------------------------- */

/* perf's x86-64 register numbers (arch/x86/include/uapi/asm/perf_regs.h) */
enum { PR_AX = 0, PR_BX, PR_CX, PR_DX, PR_SI, PR_DI, PR_BP, PR_SP, PR_IP, PR_FLAGS,
       PR_CS, PR_SS, PR_DS, PR_ES, PR_FS, PR_GS, PR_R8, PR_R15 = PR_R8 + 7 };

uint64_t usym_regs_mask(void)
{
#ifdef __x86_64__
	/* AX..IP and R8..R15: what the DWARF x86-64 register file holds */
	return ((1ULL << (PR_IP + 1)) - 1) | (((1ULL << 8) - 1) << PR_R8);
#else
	return 0;
#endif
}

#ifdef __x86_64__
/* One thread per unwind: the sampled one. */
static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct usym_proc *p = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = p;
	return p->tid;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct usym_proc *p = arg;

	(void)dwfl;
	*thread_argp = p;
	return tid == p->tid;
}

/* Only the stack copy: memory elsewhere is not read (the process may be
 * gone); CFI on x86-64 needs nothing else. */
static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct usym_proc *p = arg;

	(void)dwfl;
	if (addr < p->sp || addr - p->sp + sizeof(*result) > p->len)
		return false;
	memcpy(result, p->stack + (addr - p->sp), sizeof(*result));
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct usym_proc *p = arg;
	/* the perf registers packed in mask order: AX..IP are 0..8, R8..R15 9..16 */
	const uint64_t *r = p->regs;
	Dwarf_Word dw[17];
	int i;

	/* DWARF x86-64 numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
	dw[0] = r[PR_AX];
	dw[1] = r[PR_DX];
	dw[2] = r[PR_CX];
	dw[3] = r[PR_BX];
	dw[4] = r[PR_SI];
	dw[5] = r[PR_DI];
	dw[6] = r[PR_BP];
	dw[7] = r[PR_SP];
	for (i = 0; i < 8; i++)
		dw[8 + i] = r[PR_IP + 1 + i];
	dw[16] = r[PR_IP];
	if (!dwfl_thread_state_registers(thread, 0, 17, dw))
		return false;
	dwfl_thread_state_register_pc(thread, r[PR_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

struct frames {
	uint64_t *pcs;
	int n, max;
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct frames *f = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
		return DWARF_CB_ABORT;
	f->pcs[f->n++] = pc;
	return f->n < f->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

#endif

int usym_unwind(struct usym *u, pid_t pid, pid_t tid, const uint64_t *regs,
		const void *stack, size_t len, uint64_t *pcs, int max)
{
#ifdef __x86_64__
	struct usym_proc *p = u ? find(u, pid) : NULL;
	struct frames f = { pcs, 0, max };

	if (!p || !p->attached || !regs || max <= 0)
		return 0;
	p->tid = tid;
	p->regs = regs;
	p->stack = stack;
	p->sp = regs[PR_SP];
	p->len = stack ? len : 0;
	/* ends with an error at the outermost frame or where the copy ends;
	 * the frames up to there are what counts */
	dwfl_getthread_frames(p->dwfl, tid, on_frame, &f);
	p->regs = NULL;
	p->stack = NULL;
	return f.n;
#else
	(void)u; (void)pid; (void)tid; (void)regs; (void)stack; (void)len; (void)pcs; (void)max;
	return 0;
#endif
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
#ifdef __x86_64__
	/* the process's "state" is each sample's registers and stack copy */
	p->attached = dwfl_attach_state(p->dwfl, NULL, pid, &thread_callbacks, p);
#endif
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
