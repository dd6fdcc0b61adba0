/* mutate: a seeded random mutant of a file, for the malformed-capture
 * sweep (t9030).  mutate SEED FLIPS IN OUT flips FLIPS random bytes of IN
 * (xorshift64*, so the same seed gives the same mutant on any machine);
 * one mutant in four also has a random 32-bit little-endian value written
 * at a random offset (lengths and counts are 32-bit fields in pcap and
 * pcapng).  Exit 0, or 2 with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

int main(int argc, char **argv)
{
	FILE *in, *out;
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0, r;
	uint64_t s;
	long flips, i;

	if (argc != 5) {
		fprintf(stderr, "usage: mutate SEED FLIPS IN OUT\n");
		return 2;
	}
	s = strtoull(argv[1], NULL, 0) * 0x9E3779B97F4A7C15ull + 1;
	flips = strtol(argv[2], NULL, 0);
	in = fopen(argv[3], "rb");
	if (!in) {
		perror(argv[3]);
		return 2;
	}
	for (;;) {
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!nb) {
				fclose(in);
				free(buf);
				return 2;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, in);
		if (!r)
			break;
		n += r;
	}
	fclose(in);
	for (i = 0; n && i < flips; i++)
		buf[next(&s) % n] ^= (unsigned char)(1 + next(&s) % 255);
	if (n >= 4 && next(&s) % 4 == 0) {
		size_t off = next(&s) % (n - 3);
		uint32_t v = (uint32_t)next(&s);

		buf[off] = (unsigned char)v;
		buf[off + 1] = (unsigned char)(v >> 8);
		buf[off + 2] = (unsigned char)(v >> 16);
		buf[off + 3] = (unsigned char)(v >> 24);
	}
	out = fopen(argv[4], "wb");
	if (!out || fwrite(buf, 1, n, out) != n || fclose(out) != 0) {
		perror(argv[4]);
		free(buf);
		return 2;
	}
	free(buf);
	return 0;
}
