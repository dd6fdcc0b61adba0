/*
 * t7200: kernel symbol lookup and callchain classification on a recorded
 * kallsyms excerpt and recorded callchains (tests/data/), plus the rules
 * on hand-written chains: prefix matching up to the first '.', irq-enable
 * leaf frames skipped, weak copy frames, folded-stack output.
 */
#include "profile/ksym.h"
#include "tests/tap.h"

#include <linux/perf_event.h>

static enum ksym_stage stage_by_name(const char *s)
{
	int i;

	for (i = 0; i < KS__N; i++)
		if (!strcmp(ksym_stage_name((enum ksym_stage)i), s))
			return (enum ksym_stage)i;
	return KS__N;
}

#define CLS(want, ...) do {						\
	const char *const _c[] = { __VA_ARGS__ };			\
	enum ksym_stage _g = ksym_classify_names(_c, sizeof(_c) / sizeof(_c[0])); \
	if (!ok(_g == (want), "%s <- %s ...: %s", _c[0], _c[1], ksym_stage_name(want))) \
		diag("  got %s", ksym_stage_name(_g));			\
} while (0)

int main(void)
{
	const char *src = getenv("PKTMEM_SRC");
	char path[1024], line[8192];
	struct ksym *k = NULL;
	uint64_t off, ips[256];
	const char *nm;
	int n = 0, bad = 0, per[KS__N] = { 0 };
	FILE *f;

	plan_lazy();
	if (!src)
		src = ".";

	/* name rules */
	is_int(ksym_stage_of("__netif_receive_skb_core.constprop.0"), KS_SOFTIRQ,
	       "'.constprop.0' suffix is ignored");
	is_int(ksym_stage_of("kmem_cache_alloc_node_noprof"), KS_ALLOC, "*_noprof is alloc");
	is_int(ksym_stage_of("__kmalloc_node_track_caller_noprof"), KS_ALLOC, "__kmalloc* is alloc");
	is_int(ksym_stage_of("skb_copy_datagram_iter"), KS_COPY, "skb_copy_datagram_iter is copy");
	is_int(ksym_stage_of("tcp_v4_rcv"), KS_TCP, "tcp_v4_rcv is tcp");
	is_int(ksym_stage_of("tcp_recvmsg_locked"), KS_COPY, "tcp_recvmsg_locked is the copy's syscall");
	is_int(ksym_stage_of("tcp_sendmsg_locked"), KS_TRANSMIT, "tcp_sendmsg_locked is transmit");
	is_int(ksym_stage_of("ip_rcv_core"), KS_IP, "ip_rcv_core is ip");
	is_int(ksym_stage_of("veth_xmit"), KS_TRANSMIT, "veth_xmit is transmit");
	is_int(ksym_stage_of("handle_edge_irq"), KS_IRQ, "handle_edge_irq is irq");
	is_int(ksym_stage_of("schedule"), KS_OTHER, "schedule is other");
	ok(ksym_is_irq_enable("pvm_irq_enable") && ksym_is_irq_enable("_raw_spin_unlock_irqrestore") &&
	   ksym_is_irq_enable("__raw_callee_save_pvm_irq_enable") &&
	   ksym_is_irq_enable("_raw_spin_unlock_irq") && !ksym_is_irq_enable("_raw_spin_unlock"),
	   "irq-enable leaf frames recognised");

	/* chain rules */
	CLS(KS_COPY, "_copy_to_iter", "__skb_datagram_iter", "skb_copy_datagram_iter", "tcp_recvmsg_locked");
	CLS(KS_OTHER, "_copy_to_iter", "copy_page_to_iter", "filemap_read", "vfs_read", "ksys_read");
	CLS(KS_TCP, "pvm_irq_enable", "__raw_callee_save_pvm_irq_enable", "_raw_spin_unlock_irqrestore",
	    "tcp_v4_rcv", "ip_local_deliver_finish");
	CLS(KS_UNATTRIBUTED, "pvm_irq_enable", "__raw_callee_save_pvm_irq_enable", "do_exit");
	CLS(KS_OTHER, "do_exit", "pvm_irq_enable", "schedule");	/* not a leaf: not skipped */
	CLS(KS_ALLOC, "kmem_cache_alloc_node_noprof", "__alloc_skb", "tcp_stream_alloc_skb", "tcp_sendmsg_locked");
	CLS(KS_IRQ, "vp_interrupt", "__handle_irq_event_percpu", "handle_irq_event", "handle_edge_irq",
	    "__common_interrupt", "common_interrupt");
	CLS(KS_SOFTIRQ, "__netif_receive_skb_core.constprop.0", "__netif_receive_skb_one_core",
	    "process_backlog", "__napi_poll", "net_rx_action");

	/* recorded data */
	snprintf(path, sizeof(path), "%s/tests/data/kallsyms-excerpt.txt", src);
	ok(ksym_load(&k, path) == 0, "load recorded kallsyms excerpt");
	if (!k)
		bail_out("no kallsyms excerpt");
	ok(ksym_count(k) > 300, "excerpt has its symbols (%zu)", ksym_count(k));
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char t, name[256];

		if (sscanf(line, "%llx %c %255s", &a, &t, name) == 3) {
			nm = ksym_lookup(k, a + 3, &off);
			ok(nm && !strcmp(nm, name) && off == 3, "lookup inside the first symbol");
		}
	}
	if (f)
		fclose(f);
	ok(ksym_lookup(k, 0x1000, NULL) == NULL, "address below every symbol: no name");

	snprintf(path, sizeof(path), "%s/tests/data/ksym-chains.txt", src);
	f = fopen(path, "r");
	ok(f != NULL, "open recorded chains");
	while (f && fgets(line, sizeof(line), f)) {
		char *tok = strtok(line, " \n");
		enum ksym_stage want = stage_by_name(tok), got;
		size_t m = 0;

		while ((tok = strtok(NULL, " \n")) && m < 256)
			ips[m++] = strtoull(tok, NULL, 16);
		got = ksym_classify(k, ips, m);
		n++;
		per[want < KS__N ? want : 0]++;
		if (got != want) {
			bad++;
			diag("chain %d: want %s, got %s", n, ksym_stage_name(want), ksym_stage_name(got));
		}
	}
	if (f)
		fclose(f);
	ok(n >= 40, "recorded chains read (%d)", n);
	is_int(bad, 0, "every recorded chain classified as reviewed");
	ok(per[KS_COPY] && per[KS_SOFTIRQ] && per[KS_TCP] && per[KS_IP] && per[KS_ALLOC] &&
	   per[KS_TRANSMIT] && per[KS_UNATTRIBUTED] && per[KS_OTHER],
	   "recorded chains cover every kernel class seen on this path");

	/* A user-space sample and a kernel sample folded. */
	{
		struct ksym_folded *fo = ksym_folded_new();
		uint64_t user[] = { PERF_CONTEXT_USER, 0x401000 };
		FILE *out = tmpfile();
		char buf[4096] = "";
		size_t r;

		ok(ksym_classify(k, user, 2) == KS_USER, "user-space chain is user");
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f)) {
			char *tok = strtok(line, " \n");
			size_t m = 0;

			while ((tok = strtok(NULL, " \n")) && m < 255)
				ips[m++] = strtoull(tok, NULL, 16);
			ips[m++] = PERF_CONTEXT_USER;
			ips[m++] = 0x401000;
			ksym_folded_add(fo, k, "srv one", ips, m);
			ksym_folded_add(fo, k, "srv one", ips, m);
		}
		if (f)
			fclose(f);
		is_int(ksym_folded_count(fo), 1, "identical stacks fold into one line");
		ksym_folded_write(fo, out);
		rewind(out);
		r = fread(buf, 1, sizeof(buf) - 1, out);
		buf[r] = 0;
		ok(!strncmp(buf, "srv_one;[user];", 15) && strstr(buf, " 2\n"),
		   "folded line: comm;[user];root...leaf count ('%.60s')", buf);
		fclose(out);
		ksym_folded_free(fo);
	}
	ksym_free(k);
	return exit_status();
}
