/*
 * t1003: every fixture cut at every byte offset reads without a crash and
 * with sane results: the packets read never exceed the whole file's and
 * never decrease as the cut moves on; a cut plain file is never an error
 * past its file header (ended_mid_record at most); a cut gzip file is
 * always CAPTURE_E_GZIP (or truncated before its magic).  Then bytes
 * flipped at random: no crash.
 *
 * Fixtures over 16 KiB are cut at every offset in their first and last
 * 2 KiB and at every 7th offset between (7 is prime to the 16-byte record
 * header, so every position inside a record still comes up).
 */
#include "tests/tap.h"
#include "tests/ingest.h"

#include <dirent.h>

static int is_fixture(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".pcap")) ||
	       (n > 7 && !strcmp(name + n - 7, ".pcapng")) ||
	       (n > 3 && !strcmp(name + n - 3, ".gz"));
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	const char *src = getenv("PKTMEM_SRC");
	char dir[4096], path[4200];
	char *names[256];
	int nnames = 0;
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/fixtures", src ? src : ".");
	d = opendir(dir);
	if (!d)
		skip_all("no fixtures directory at %s", dir);
	while ((de = readdir(d)) && nnames < 256)
		if (is_fixture(de->d_name))
			names[nnames++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)nnames, sizeof(names[0]), cmp);
	plan_lazy();
	capsum_no_hash = 1;
	ok(nnames >= 10, "found %d fixtures", nnames);

	for (int f = 0; f < nnames; f++) {
		struct capsum whole, s;
		size_t n;
		uint8_t *buf;
		int gz;
		uint64_t prev = 0;
		size_t bad_at = (size_t)-1, step;
		const char *why = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, names[f]);
		buf = slurp(path, &n);
		if (!buf) {
			ok(0, "%s: readable", names[f]);
			continue;
		}
		gz = n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
		capsum_mem(buf, n, NULL, &whole);
		ok(whole.open_rc == 0 && whole.next_rc == 0 && whole.packets > 0 && !whole.mid,
		   "%s: whole file reads (%llu packets)", names[f],
		   (unsigned long long)whole.packets);
		for (size_t off = 0; off < n; off += step) {
			step = n > 16 * 1024 && off >= 2048 && off + 2048 < n ? 7 : 1;
			capsum_mem(buf, off, NULL, &s);
			if (s.packets > whole.packets || s.payload > whole.payload) {
				why = "more than the whole file";
			} else if (gz) {
				if (!(s.open_rc == CAPTURE_E_GZIP || s.next_rc == CAPTURE_E_GZIP ||
				      (off < 2 && s.open_rc == CAPTURE_E_TRUNCATED)))
					why = "cut gzip not reported as CAPTURE_E_GZIP";
			} else {
				if (s.open_rc < 0 && s.open_rc != CAPTURE_E_TRUNCATED)
					why = "open failed with something else than truncated";
				else if (s.open_rc == 0 && s.next_rc != 0)
					why = "error after the header";
				else if (s.packets < prev)
					why = "fewer packets with more bytes";
				prev = s.packets;
			}
			if (why) {
				bad_at = off;
				break;
			}
		}
		ok(!why, "%s: cut at every offset: sane%s%s (at %zu: %s)", names[f],
		   why ? ": " : "", why ? why : "", bad_at, s.err);

		/* 300 random single-byte corruptions: any result, no crash */
		{
			uint8_t *copy = malloc(n);
			uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(f + 1);
			int completed = 0;

			for (int i = 0; i < 300; i++) {
				memcpy(copy, buf, n);
				x ^= x << 13; x ^= x >> 7; x ^= x << 17;
				copy[x % n] ^= (uint8_t)(1u << (x >> 32) % 8);
				x ^= x << 13; x ^= x >> 7; x ^= x << 17;
				copy[x % n] = (uint8_t)(x >> 40);
				capsum_mem(copy, n, NULL, &s);
				completed++;
			}
			ok(completed == 300, "%s: 300 corrupted copies read without a crash", names[f]);
			free(copy);
		}
		free(buf);
		free(names[f]);
	}
	return exit_status();
}
