/*
 * peer_sched.h: the pacing and statistics both replay paths share, private
 * to peer.c (packet path) and peer_socket.c (socket path).
 *
 * What runs per data segment (deadline, pace_wait, pace_sent) is static
 * inline here so each path's loop compiles it in, as when both lived in
 * one file; setup and the end-of-run percentiles are in peer.c.
 */
#ifndef PKTMEM_REPLAY_PEER_SCHED_H
#define PKTMEM_REPLAY_PEER_SCHED_H

#include "lib/time.h"
#include "replay/peer.h"
#include "replay/plan.h"

#include <stdint.h>

/* --- shared scheduling state --- */

struct sched {
	const struct plan *plan;
	const struct peer_cfg *cfg;
	uint32_t loops;
	uint64_t total;		/* results: nflows * loops */
	uint64_t next;		/* next (loop, flow) to start */
	uint64_t finished;
	uint64_t t0;		/* run start, CLOCK_MONOTONIC ns */
	uint64_t loop_ns;	/* PEER_SCALED: length of one pass */
	uint64_t pps_next;	/* PEER_PPS: when the next data segment may go */
	uint64_t pps_step;
	uint64_t last_data;	/* when the last data segment went (gaps) */
	uint64_t *gaps, *late;
	uint32_t ngaps, nlate, cap;
	uint64_t seen_gaps, seen_late;	/* offered to the reservoirs */
	uint64_t gap_max, late_max;
	uint64_t rng;			/* xorshift64 state for the reservoirs */
	uint64_t last_progress;
};

/* Allocates the reservoirs: 0 or -ENOMEM. */
int peer_sched_init(struct sched *s, const struct plan *plan, const struct peer_cfg *cfg);
/* Fills the pacing percentiles of st, frees the reservoirs. */
void peer_sched_finish(struct sched *s, struct peer_stats *st);

static inline uint64_t deadline(const struct sched *s, uint32_t loop, uint64_t ts)
{
	double d;

	if (s->cfg->timing != PEER_SCALED)
		return 0;
	d = (double)(ts > s->plan->first_ts_ns ? ts - s->plan->first_ts_ns : 0) / s->cfg->speed;
	return s->t0 + (uint64_t)loop * s->loop_ns + (uint64_t)d;
}

/* May a first transmission with this deadline go now?  Returns 0 if yes,
 * else the time to wake up. */
static inline uint64_t pace_wait(struct sched *s, uint64_t dl, uint64_t now)
{
	if (dl && now < dl)
		return dl;
	if (s->pps_step && now < s->pps_next)
		return s->pps_next;
	return 0;
}

/* Algorithm R: the first cap values fill the reservoir; the k-th after
 * that replaces a random slot with probability cap/k. */
static inline void reservoir_add(struct sched *s, uint64_t *v, uint32_t *n, uint64_t *seen, uint64_t x)
{
	uint64_t j;

	if (*n < s->cap) {
		v[(*n)++] = x;
		(*seen)++;
		return;
	}
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	j = s->rng % ++(*seen);
	if (j < s->cap)
		v[j] = x;
}

static inline void pace_sent(struct sched *s, struct peer_stats *st, uint64_t dl)
{
	/* the clock is read per segment: a pass of the loop sends many */
	uint64_t now = pm_now_ns();

	if (s->pps_step)
		s->pps_next += s->pps_step;	/* absolute schedule: no drift */
	if (s->last_data) {
		uint64_t gap = now - s->last_data;

		reservoir_add(s, s->gaps, &s->ngaps, &s->seen_gaps, gap);
		if (gap > s->gap_max)
			s->gap_max = gap;
	}
	if (s->pps_step || dl) {
		uint64_t want = s->pps_step ? s->pps_next - s->pps_step : dl;
		uint64_t late = now > want ? now - want : 0;

		reservoir_add(s, s->late, &s->nlate, &s->seen_late, late);
		if (late > s->late_max)
			s->late_max = late;
	}
	s->last_data = now;
	if (!st->first_data_ns)
		st->first_data_ns = now;
	st->last_data_ns = now;
}

static inline void progress(struct sched *s, uint64_t now)
{
	if (s->cfg->progress && now - s->last_progress > 100000000ull) {
		s->last_progress = now;
		s->cfg->progress(s->cfg->progress_arg, s->finished, s->total);
	}
}

#endif
