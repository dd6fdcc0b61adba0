/*
 * t1002: every error path of capture.c gives its code and a message:
 * not a capture, empty, truncated file header, absurd record length, a
 * capture ending mid-record (a warning, not an error), gzip truncated or
 * corrupt, bad pcapng blocks, a missing file, a directory, stdin.
 */
#include "tests/tap.h"
#include "tests/ingest.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

static struct synth_opts small(void)
{
	struct synth_opts o;

	synth_opts_init(&o);
	o.flows = 2;
	o.requests = 2;
	o.seed = 7;
	return o;
}

int main(void)
{
	struct synth_opts o = small();
	struct synth_stats st;
	struct capsum s;
	uint8_t *buf, *copy;
	size_t n;

	plan_lazy();

	capsum_mem("this is not a capture file\n", 27, NULL, &s);
	is_int(s.open_rc, CAPTURE_E_FORMAT, "text: CAPTURE_E_FORMAT");
	ok(strstr(s.err, "not a capture") != NULL, "text: message says so (%s)", s.err);
	capsum_mem("", 0, NULL, &s);
	is_int(s.open_rc, CAPTURE_E_TRUNCATED, "empty file: CAPTURE_E_TRUNCATED");

	buf = synth_mem(&o, &n, &st);
	capsum_mem(buf, 3, NULL, &s);
	is_int(s.open_rc, CAPTURE_E_TRUNCATED, "3 bytes of a pcap: truncated");
	capsum_mem(buf, 20, NULL, &s);
	is_int(s.open_rc, CAPTURE_E_TRUNCATED, "20 of 24 header bytes: truncated");
	ok(strstr(s.err, "truncated file header") != NULL, "says truncated file header (%s)", s.err);
	capsum_mem(buf, 24, NULL, &s);
	ok(s.open_rc == 0 && s.next_rc == 0 && s.packets == 0 && !s.mid,
	   "header only: an empty capture, no warning");

	/* the file ends inside the third record's data */
	{
		size_t off = 24;

		for (int i = 0; i < 2; i++) {
			uint32_t cl;

			memcpy(&cl, buf + off + 8, 4);
			off += 16 + cl;
		}
		capsum_mem(buf, off + 16 + 5, NULL, &s);
		ok(s.open_rc == 0 && s.next_rc == 0 && s.packets == 2 && s.mid,
		   "cut in record 3's data: 2 packets, ended_mid_record");
		capsum_mem(buf, off + 7, NULL, &s);
		ok(s.open_rc == 0 && s.next_rc == 0 && s.packets == 2 && s.mid,
		   "cut in record 3's header: 2 packets, ended_mid_record");
		capsum_mem(buf, off, NULL, &s);
		ok(s.next_rc == 0 && s.packets == 2 && !s.mid, "cut at a record boundary: no warning");

		/* absurd record length in record 3 */
		copy = malloc(n);
		memcpy(copy, buf, n);
		memcpy(copy + off + 8, &(uint32_t){ 0x7fffffff }, 4);
		capsum_mem(copy, n, NULL, &s);
		ok(s.packets == 2 && s.next_rc == CAPTURE_E_CORRUPT,
		   "record length 0x7fffffff: 2 packets then CAPTURE_E_CORRUPT (%d)", s.next_rc);
		ok(strstr(s.err, "2147483647") != NULL, "message names the length (%s)", s.err);
		free(copy);
	}
	free(buf);

	/* gzip: truncated anywhere and corrupt */
	o.gzip = true;
	buf = synth_mem(&o, &n, &st);
	capsum_mem(buf, n, NULL, &s);
	ok(s.next_rc == 0 && s.packets == st.packets && s.gzip, "gzip whole: read");
	capsum_mem(buf, n - 4, NULL, &s);
	is_int(s.next_rc, CAPTURE_E_GZIP, "gzip missing its trailer: CAPTURE_E_GZIP");
	ok(strstr(s.err, "gzip stream ends early") != NULL, "says it ends early (%s)", s.err);
	capsum_mem(buf, n / 2, NULL, &s);
	ok(s.open_rc == 0 && s.next_rc == CAPTURE_E_GZIP && s.packets < st.packets,
	   "gzip cut in half: packets before, then CAPTURE_E_GZIP");
	capsum_mem(buf, 12, NULL, &s);
	ok(s.open_rc == CAPTURE_E_GZIP || s.next_rc == CAPTURE_E_GZIP,
	   "gzip cut in its header: CAPTURE_E_GZIP");
	copy = malloc(n);
	memcpy(copy, buf, n);
	for (size_t i = 20; i < 60 && i < n; i++)
		copy[i] ^= 0x5a;
	capsum_mem(copy, n, NULL, &s);
	ok(s.open_rc == CAPTURE_E_GZIP || s.next_rc == CAPTURE_E_GZIP,
	   "gzip corrupted: CAPTURE_E_GZIP (%s)", s.err);
	memcpy(copy, buf, n);
	copy[n - 6] ^= 0xff;	/* CRC-32 in the trailer */
	capsum_mem(copy, n, NULL, &s);
	ok(s.next_rc == CAPTURE_E_GZIP, "gzip CRC mismatch: CAPTURE_E_GZIP (%s)", s.err);
	free(copy);
	free(buf);
	{
		/* gzip of text: a gzip file that is not a capture */
		uint8_t gz[64];
		uLongf gl = sizeof(gz);
		z_stream z = { 0 };

		deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
		z.next_in = (Bytef *)"hello, world\n";
		z.avail_in = 13;
		z.next_out = gz;
		z.avail_out = sizeof(gz);
		deflate(&z, Z_FINISH);
		gl = sizeof(gz) - z.avail_out;
		deflateEnd(&z);
		capsum_mem(gz, gl, NULL, &s);
		is_int(s.open_rc, CAPTURE_E_FORMAT, "gzip of text: not a capture");
	}

	/* pcapng: bad block lengths, undeclared interface, cut blocks */
	o = small();
	o.pcapng = true;
	buf = synth_mem(&o, &n, &st);
	copy = malloc(n);
	memcpy(copy, buf, n);
	memcpy(copy + 28 + 4, &(uint32_t){ 30 }, 4);	/* IDB length not /4 */
	capsum_mem(copy, n, NULL, &s);
	is_int(s.next_rc, CAPTURE_E_CORRUPT, "pcapng block length 30: corrupt");
	memcpy(copy, buf, n);
	memcpy(copy + 28 + 32 + 4, &(uint32_t){ 0x40000000 }, 4);
	capsum_mem(copy, n, NULL, &s);
	is_int(s.next_rc, CAPTURE_E_CORRUPT, "pcapng block length 1 GiB: corrupt");
	memcpy(copy, buf, n);
	memcpy(copy + 28 + 32 + 8, &(uint32_t){ 3 }, 4);	/* EPB interface 3 */
	capsum_mem(copy, n, NULL, &s);
	ok(s.next_rc == CAPTURE_E_CORRUPT && strstr(s.err, "interface 3"),
	   "pcapng packet on an undeclared interface: corrupt (%s)", s.err);
	memcpy(copy, buf, n);
	memcpy(copy + 28 + 32 + 20, &(uint32_t){ 5000 }, 4);	/* caplen > block */
	capsum_mem(copy, n, NULL, &s);
	is_int(s.next_rc, CAPTURE_E_CORRUPT, "pcapng caplen beyond its block: corrupt");
	memcpy(copy, buf, n);
	copy[8] ^= 0x01;	/* byte-order magic */
	capsum_mem(copy, n, NULL, &s);
	ok(s.open_rc == CAPTURE_E_CORRUPT, "pcapng bad byte-order magic: corrupt");
	capsum_mem(buf, 10, NULL, &s);
	is_int(s.open_rc, CAPTURE_E_TRUNCATED, "pcapng cut in its section header: truncated");
	capsum_mem(buf, n - 10, NULL, &s);
	ok(s.next_rc == 0 && s.mid && s.packets == st.packets - 1,
	   "pcapng cut in the last block: all but one packet, ended_mid_record");
	free(copy);
	free(buf);

	/* paths */
	capsum_path("/nonexistent/x.pcap", NULL, &s);
	is_int(s.open_rc, -ENOENT, "missing file: -ENOENT");
	capsum_path("/", NULL, &s);
	is_int(s.open_rc, -EISDIR, "a directory: -EISDIR");

	/* "-" is stdin, which is not seekable here (a pipe) */
	{
		int fds[2];
		pid_t pid;

		o = small();
		o.gzip = false;
		buf = synth_mem(&o, &n, &st);
		if (pipe(fds) == 0 && (pid = fork()) == 0) {
			close(fds[0]);
			(void)!write(fds[1], buf, n);
			_exit(0);
		}
		close(fds[1]);
		int saved = dup(0);

		dup2(fds[0], 0);
		close(fds[0]);
		capsum_path("-", NULL, &s);
		ok(s.open_rc == 0 && s.packets == st.packets && s.next_rc == 0,
		   "'-' reads stdin from a pipe");
		dup2(saved, 0);
		close(saved);
		free(buf);
	}
	is_str(capture_strerror(CAPTURE_E_GZIP), "gzip stream corrupt or ends early",
	       "capture_strerror(CAPTURE_E_GZIP)");
	is_str(capture_strerror(-ENOENT), strerror(ENOENT), "capture_strerror(-ENOENT)");
	return exit_status();
}
