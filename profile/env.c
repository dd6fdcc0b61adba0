/* env.c: the machine a measurement runs on (env.h). */
#include "profile/env.h"
#include "core/privs.h"
#include "lib/io.h"
#include "lib/sha256.h"
#include "profile/pfm.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* What each is for: the namespaces (SYS_ADMIN), veth and routes
 * (NET_ADMIN), packet sockets (NET_RAW), system-wide perf events
 * (PERFMON) and the stage counters' BPF program (BPF). */
static const struct {
	int cap;
	const char *name;
} env_caps[] = {
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" }, { CAP_NET_RAW, "CAP_NET_RAW" },
	{ CAP_PERFMON, "CAP_PERFMON" }, { CAP_BPF, "CAP_BPF" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
};
#define NCAPS (sizeof(env_caps) / sizeof(env_caps[0]))

static void list_add(char *buf, size_t size, const char *name)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? "," : "", name);
}

int env_privs_probe(struct env_privs *p)
{
	long long eff = privs_effective();
	size_t i, held = 0;

	memset(p, 0, sizeof(*p));
	p->root = geteuid() == 0;
	p->eff = eff > 0 ? (unsigned long long)eff : 0;
	for (i = 0; i < NCAPS; i++) {
		bool has = p->eff & (1ULL << env_caps[i].cap);

		if (has) {
			list_add(p->have, sizeof(p->have), env_caps[i].name);
			held++;
		} else {
			list_add(p->lack, sizeof(p->lack), env_caps[i].name);
		}
	}
	p->all = held == NCAPS;
	return eff < 0 ? (int)eff : 0;
}

static void probe_cpu(struct report_env *env)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];

	snprintf(env->cpu_model, sizeof(env->cpu_model), "unknown");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *colon;

			/* x86: "model name"; arm64 has none, "CPU part" is the
			 * nearest; keep the first found. */
			if (strncmp(line, "model name", 10))
				continue;
			colon = strchr(line, ':');
			if (!colon)
				continue;
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(env->cpu_model, sizeof(env->cpu_model), "%s", colon);
			break;
		}
		fclose(f);
	}
	env->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* Only opening a counter proves a PMU: libpfm4 claims one from cpuid
 * alone, also in a VM that has none (pfm.h). */
static void probe_pmu(struct report_env *env)
{
	int rc = pfm_pmu_probe();
	const char *name = rc < 0 ? strerrorname_np(-rc) : NULL;

	env->pmu = rc == 0;
	env->pmu_reason[0] = '\0';
	if (rc == -ENOENT || rc == -EOPNOTSUPP)
		snprintf(env->pmu_reason, sizeof(env->pmu_reason),
			 "no PMU: perf_event_open(cycles) = %s (a VM without a virtual PMU?)",
			 name ? name : "error");
	else if (rc < 0)
		snprintf(env->pmu_reason, sizeof(env->pmu_reason),
			 "perf_event_open(cycles) = %s: run as root or lower kernel.perf_event_paranoid",
			 name ? name : "error");
}

static void probe_privileges(struct report_env *env)
{
	struct env_privs p;

	env_privs_probe(&p);
	if (p.root && p.all)
		snprintf(env->privileges, sizeof(env->privileges), "root");
	else if (p.root)
		snprintf(env->privileges, sizeof(env->privileges), "root (only %.110s)",
			 p.have[0] ? p.have : "no capabilities");
	else
		snprintf(env->privileges, sizeof(env->privileges), "%s",
			 p.have[0] ? p.have : "none");
}

void report_env_probe(struct report_env *env)
{
	struct utsname u;
	char buf[256];
	char fp[512];

	memset(env, 0, sizeof(*env));
	if (uname(&u) == 0) {
		snprintf(env->kernel, sizeof(env->kernel), "%.20s %.80s %.20s", u.sysname, u.release, u.machine);
		snprintf(env->hostname, sizeof(env->hostname), "%.63s", u.nodename);
	} else {
		snprintf(env->kernel, sizeof(env->kernel), "unknown");
		snprintf(env->hostname, sizeof(env->hostname), "unknown");
	}
	probe_cpu(env);
	probe_pmu(env);
	probe_privileges(env);
	env->perf_event_paranoid = io_read_small("/proc/sys/kernel/perf_event_paranoid", buf,
						 sizeof(buf)) > 0 && io_rstrip(buf) > 0
		? atoi(buf) : -99;	/* -99: unknown, no perf_event support */
	if (io_read_small("/sys/devices/system/clocksource/clocksource0/current_clocksource",
			  buf, sizeof(buf)) > 0 && io_rstrip(buf) > 0)
		snprintf(env->clocksource, sizeof(env->clocksource), "%.31s", buf);
	else
		snprintf(env->clocksource, sizeof(env->clocksource), "unknown");
	/* Same CPU model, core count and kernel: timings are comparable. */
	snprintf(fp, sizeof(fp), "%s\n%d\n%s", env->cpu_model, env->cores, env->kernel);
	sha256_hex(fp, strlen(fp), env->fingerprint);
}
