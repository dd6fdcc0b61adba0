/*
 * t2011: the inspect path (capture -> reasm -> httpx -> JSON) on fixtures
 * cut at every byte offset (every 13th for the largest): each prefix is either read (exit-0 material,
 * perhaps with ended_mid_record) or refused with a capture.h code and a
 * message — never a crash, a hang or a sanitizer report; the request
 * count never exceeds the whole file's.
 */
#include "tests/tap.h"

#include "replay/inspect.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void cut_everywhere(const char *src, const char *name, size_t stride)
{
	char path[4096], fdpath[64], err[256];
	struct inspect_result *r = NULL;
	uint64_t whole_requests;
	unsigned char *buf;
	struct stat sb;
	size_t at;
	int fd, mfd, bad = 0, refused = 0, read_ok = 0, more = 0;

	snprintf(path, sizeof(path), "%s/fixtures/%s", src, name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		skip("%s: not present", name);
		if (fd >= 0)
			close(fd);
		return;
	}
	buf = malloc(sb.st_size);
	if (!buf || read(fd, buf, sb.st_size) != sb.st_size)
		bail_out("read fixture");
	close(fd);
	if (inspect_run(path, NULL, &r, err, sizeof(err)) < 0)
		bail_out(err);
	whole_requests = r->http.requests;
	inspect_result_free(r);

	mfd = memfd_create("t2011", 0);
	if (mfd < 0)
		bail_out("memfd_create");
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", mfd);
	for (at = 0; at <= (size_t)sb.st_size; at += stride) {
		int rc;

		if (ftruncate(mfd, 0) < 0 || pwrite(mfd, buf, at, 0) != (ssize_t)at)
			bail_out("pwrite");
		r = NULL;
		err[0] = 0;
		rc = inspect_run(fdpath, NULL, &r, err, sizeof(err));
		if (rc == 0) {
			json_t *j = inspect_result_json(r);
			read_ok++;
			if (!j)
				bad++;
			if (r->http.requests > whole_requests)
				more++;
			json_decref(j);
			inspect_result_free(r);
		} else if (rc <= CAPTURE_E_FORMAT && rc >= CAPTURE_E_FILTER && err[0]) {
			refused++;
		} else {
			if (!bad)
				diag("%s cut at %zu: rc %d '%s'", name, at, rc, err);
			bad++;
		}
	}
	close(mfd);
	free(buf);
	ok(bad == 0, "%s: cut at every %zu of %lld offsets: %d read, %d refused with a message",
	   name, stride, (long long)sb.st_size + 1, read_ok, refused);
	ok(more == 0, "%s: no prefix has more requests than the whole (%llu)", name,
	   (unsigned long long)whole_requests);
}

int main(void)
{
	const char *src = getenv("PKTMEM_SRC");

	plan_lazy();
	if (!src)
		src = ".";
	cut_everywhere(src, "synth-ns.pcap", 1);
	cut_everywhere(src, "synth.pcapng", 1);
	cut_everywhere(src, "synth-gzip.pcap.gz", 1);
	cut_everywhere(src, "synth-snaplen.pcap", 1);
	/* 33 KB: a prime stride still lands in every kind of place */
	cut_everywhere(src, "synth-impaired.pcap", 13);
	return exit_status();
}
