/*
 * t7210: user-space symbols (profile/usym.c) and the sampler's naming of
 * user frames (profile/sample.c).
 *
 * Without privileges: this program's own addresses are named by libdwfl
 * (a noinline function of this file, a libc function), an address in no
 * executable mapping is "[unknown]", a stripped binary (Debian's
 * /bin/sleep, which has no .symtab) is recognised as such.  With perf
 * privileges: a child spinning in a named noinline function is sampled
 * system-wide, and the top user symbol and the folded stacks name it; a
 * second child spends its time in libc's memset (no frame pointer) called
 * from a named function, which only DWARF unwinding shows as the caller.
 */
#include "profile/perf.h"
#include "profile/sample.h"
#include "profile/usym.h"
#include "tests/tap.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The named functions the test looks for: not inlined, not merged;
 * external, so their names stay in the symbol table. */
int t7210_known_function(int x);
void t7210_spin_here(void);
void t7210_in_libc(void);

__attribute__((noinline)) int t7210_known_function(int x)
{
	volatile int v = x;

	return v * 3 + 1;
}

__attribute__((noinline)) void t7210_spin_here(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
}

static volatile size_t t7210_len = 1 << 16;

__attribute__((noinline)) void t7210_in_libc(void)
{
	static char buf[1 << 16];

	for (;;)
		memset(buf, (int)t7210_len, t7210_len);
}

static void own_addresses(void)
{
	struct usym *u = NULL;
	char name[256], exe[64];
	const char *mod = NULL;
	uint64_t a = (uint64_t)(uintptr_t)&t7210_known_function;
	int rc, heap_var = 0;
	void *heap = malloc(64);

	ok(usym_new(&u) == 0, "usym_new");
	is_int(usym_add_pid(u, getpid()), 0, "own mappings recorded");
	ok(usym_knows(u, getpid()), "pid known");

	rc = usym_name(u, getpid(), a, name, sizeof(name), &mod);
	ok(rc == 1 && !strcmp(name, "t7210_known_function"),
	   "start of a noinline function: '%s' (rc %d)", name, rc);
	ok(mod && !strcmp(mod, "t7210-usym.t"), "its module is the test binary ('%s')", mod ? mod : "");
	rc = usym_name(u, getpid(), a + 4, name, sizeof(name), NULL);
	ok(rc == 1 && !strcmp(name, "t7210_known_function"), "inside it: '%s'", name);

	rc = usym_name(u, getpid(), (uint64_t)(uintptr_t)&getpid, name, sizeof(name), &mod);
	ok(rc == 1 && strstr(name, "getpid") && mod && !strncmp(mod, "libc.so", 7),
	   "libc's getpid: '%s' in '%s'", name, mod ? mod : "");

	rc = usym_name(u, getpid(), (uint64_t)(uintptr_t)heap, name, sizeof(name), &mod);
	ok(rc == -ENOENT && !strcmp(name, "[unknown]"), "a heap address is no code: '%s'", name);
	rc = usym_name(u, getpid(), (uint64_t)(uintptr_t)&heap_var, name, sizeof(name), NULL);
	ok(rc == -ENOENT && !strcmp(name, "[unknown]"), "a stack address is no code: '%s'", name);
	rc = usym_name(u, 999999999, a, name, sizeof(name), NULL);
	ok(rc == -ENOENT && !strcmp(name, "[unknown]"), "an unknown pid names nothing");

	is_int(usym_main_has_symbols(u, getpid(), exe, sizeof(exe)), 1,
	       "this binary has symbols ('%s')", exe);
	is_int(usym_add_pid(u, 999999999), -ESRCH, "a pid that does not exist: -ESRCH");
	usym_free(u);
	free(heap);
}

/* /bin/sleep as Debian ships it: stripped (no .symtab). */
static void stripped(void)
{
	struct usym *u = NULL;
	char exe[64], name[256];
	pid_t pid;
	int rc, st;

	if (access("/bin/sleep", X_OK) < 0) {
		skip("no /bin/sleep");
		return;
	}
	pid = fork();
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "10", (char *)NULL);
		_exit(127);
	}
	/* until the exec is over and ld.so has mapped libc (exe changes at the
	 * exec, the mappings only after it) */
	for (rc = 0; rc < 400; rc++) {
		char path[64], line[512], tgt[256] = "";
		bool done = false;
		FILE *m;

		/* the fork has libc mapped too, before the exec */
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		if (readlink(path, tgt, sizeof(tgt) - 1) <= 0 || !strstr(tgt, "sleep")) {
			usleep(5000);
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
		m = fopen(path, "r");
		while (m && fgets(line, sizeof(line), m))
			if (strstr(line, "libc.so"))
				done = true;
		if (m)
			fclose(m);
		if (done)
			break;
		usleep(5000);
	}
	usleep(20000);	/* past ld.so's relocation, asleep in nanosleep */
	usym_new(&u);
	is_int(usym_add_pid(u, pid), 0, "a stripped program's mappings");
	rc = usym_main_has_symbols(u, pid, exe, sizeof(exe));
	ok(rc == 0 && !strcmp(exe, "sleep"), "stripped /bin/sleep has no symbols (rc %d, '%s')", rc, exe);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	/* after it exited, names still come from the files opened while it ran */
	rc = usym_name(u, pid, 0, name, sizeof(name), NULL);
	ok(rc == -ENOENT, "address 0 is nothing, also after the exit");
	usym_free(u);
}

/* noinline: the child's folded stack must show it between main and the spin */
static __attribute__((noinline)) void sampled(void)
{
	struct sampler *s = NULL;
	struct report_usyms top;
	struct sampler_cfg cfg = { .pid = -1, .hz = 999, .folded = true };
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	char *buf = NULL;
	size_t len = 0;
	pid_t pid, pids[2];
	FILE *f;
	int st, rc;

	if (!perf_privileged()) {
		skip("sampling needs root or kernel.perf_event_paranoid=-1");
		return;
	}
	pid = fork();
	if (pid == 0) {
		t7210_spin_here();
		_exit(0);
	}
	pids[0] = pid;
	pids[1] = fork();
	if (pids[1] == 0) {
		t7210_in_libc();
		_exit(0);
	}
	cfg.server = pids;
	cfg.nserver = 2;
	rc = sampler_new(&s, &cfg);
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		kill(pids[1], SIGKILL);
		waitpid(pids[1], &st, 0);
		skip("cpu-clock sampling cannot be opened here: %s", strerror(-rc));
		return;
	}
	sampler_enable(s);
	/* drain as the profiler's reader does, so the ring never fills */
	for (rc = 0; rc < 6; rc++) {
		struct timespec q = { 0, ts.tv_nsec / 6 };

		nanosleep(&q, NULL);
		sampler_drain(s);
	}
	sampler_disable(s);
	sampler_drain(s);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	kill(pids[1], SIGKILL);
	waitpid(pids[1], &st, 0);

	/* named after the child exited: the mappings were read at the start */
	sampler_user_symbols(s, &top);
	ok(top.present && top.available, "user symbols available (%s)", top.reason);
	ok(top.user_samples > 0 && top.resolved > 0, "%llu user samples, %llu named",
	   (unsigned long long)top.user_samples, (unsigned long long)top.resolved);
	{
		size_t i, k = top.ntop;

		for (i = 0; i < top.ntop; i++)
			if (!strcmp(top.top[i].name, "t7210_spin_here"))
				k = i;
		ok(k < top.ntop && !strcmp(top.top[k].module, "t7210-usym.t"),
		   "the spinning function is a top symbol ('%s' in '%s')",
		   top.ntop ? top.top[0].name : "", top.ntop ? top.top[0].module : "");
		/* the two children share the CPUs about evenly */
		ok(k < top.ntop && top.top[k].share > 20.0, "with a large share (%.1f%%)",
		   k < top.ntop ? top.top[k].share : 0.0);
	}
	f = open_memstream(&buf, &len);
	ok(f && sampler_write_folded(s, f) == 0, "folded stacks written");
	if (f)
		fclose(f);
	ok(buf && strstr(buf, ";t7210_spin_here "), "a folded line ends in the named function");
	ok(buf && strstr(buf, "main;") && strstr(buf, "sampled;t7210_spin_here"),
	   "and names its callers (main ... sampled)");
#ifdef __x86_64__
	/* frame pointers would skip t7210_in_libc: memset keeps none */
	ok(buf && strstr(buf, ";sampled;t7210_in_libc;__mem"),
	   "libc's memset under its caller: unwound by DWARF CFI");
	if (buf && !strstr(buf, ";sampled;t7210_in_libc;__mem")) {
		char *l = strstr(buf, "t7210_in_libc");

		diag("  %.200s", l ? l : buf);
	}
#endif
	free(buf);
	sampler_free(s);
}

int main(void)
{
	plan_lazy();
	own_addresses();
	stripped();
	sampled();
	return exit_status();
}
