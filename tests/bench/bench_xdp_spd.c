// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_xdp_spd.c - cost per packet of bpf/esper.bpf.c against the size of the SPD
 * (root; a benchmark, never a test). Fills the spd map with 1, 1k, 100k and 1M policies,
 * all in one tuple and spread over several tuples, and times a packet that hits (an
 * inbound policy: XDP_DROP, so nothing but the classification is timed) and one that
 * misses (XDP_PASS) with BPF_PROG_TEST_RUN and repeat: ns per packet as the kernel reports
 * it. This VM is noisy, so the sweep is repeated ROUNDS times, interleaved, and each cell
 * shows the median and the minimum over all runs. One flow: caches are warm. Run by
 * `make bench`.
 *
 * Hits use inbound policies on purpose: under test_run with repeat the frame is not
 * reset between runs, so the metadata that a redirect pushes would pile up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../bpf/xdp_harness.h"
#include "bench_time.h"

#define BATCH		65536
#define RUNS		5
#define ROUNDS		3
#define REPEAT_NS	50000000ull	/* aim for ~50 ms per run */

struct result {
	double hit[ROUNDS * RUNS], miss[ROUNDS * RUNS];
	int n;
};

/* Policy i of tuple t: 10.x.y.z/32 (i) -> 192.0.2.1/(32 - t): one key per policy. */
static void bench_key(uint32_t i, unsigned t, struct esper_spd_key *k)
{
	uint32_t src = htonl(0x0a000000u + i);
	uint32_t dst = htonl(0xc0000201u & (t ? ~0u << t : ~0u));

	memset(k, 0, sizeof(*k));
	k->family = ESPER_AF_INET;
	k->src_plen = 32;
	k->dst_plen = (uint8_t)(32 - t);
	memcpy(k->src, &src, 4);
	memcpy(k->dst, &dst, 4);
}

/* Policy i goes to tuple i % ntuples, except the one the hit packet matches: the last. */
static int bench_fill(struct hx *h, uint32_t n, unsigned ntuples, uint32_t hit)
{
	static struct esper_spd_key keys[BATCH];
	static struct esper_spd_val vals[BATCH];
	struct esper_tuple_list l = { .count = ntuples };
	__u32 zero = 0;

	for (unsigned t = 0; t < ntuples; t++)
		l.t[t] = (struct esper_tuple){ .src_plen = 32, .dst_plen = (uint8_t)(32 - t) };
	if (bpf_map_update_elem(h->fds.tuple_lists, &zero, &l, BPF_ANY))
		return -errno;
	for (uint32_t done = 0; done < n;) {
		__u32 count = n - done < BATCH ? n - done : BATCH;

		for (__u32 j = 0; j < count; j++) {
			uint32_t i = done + j;

			bench_key(i, i == hit ? ntuples - 1 : i % ntuples, &keys[j]);
			vals[j] = (struct esper_spd_val){ .in = ESPER_ACT_IPSEC, .in_id = i + 1 };
		}
		if (bpf_map_update_batch(h->fds.spd, keys, vals, &count, NULL))
			return -errno;
		done += count;
	}
	return 0;
}

/* Time RUNS runs of frame into ns[]; *action is the program's verdict. */
static int bench_time(struct hx *h, const uint8_t *frame, size_t len, double *ns, int *action)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1000);

	if (bpf_prog_test_run_opts(h->prog_fd, &o))	/* calibrate */
		return -errno;
	o.repeat = (__u32)(REPEAT_NS / (o.duration ? o.duration : 1));
	if (o.repeat < 1000)
		o.repeat = 1000;
	for (int r = 0; r < RUNS; r++) {
		if (bpf_prog_test_run_opts(h->prog_fd, &o))
			return -errno;
		ns[r] = o.duration;
	}
	*action = (int)o.retval;
	return 0;
}

/* The hit is policy n/2, in the last tuple; the miss probes every tuple. */
static int bench_one(uint32_t n, unsigned ntuples, struct result *res)
{
	struct pb_pkt hit = pb_packet("10.0.0.0", "192.0.2.1", 17, 1000, 2000);
	struct pb_pkt miss = pb_packet("11.0.0.1", "192.0.2.1", 17, 1000, 2000);
	uint8_t buf[HX_FRAME_MAX];
	uint32_t src = htonl(0x0a000000u + n / 2);
	struct hx h;
	int xsk_err, act_hit = -1, act_miss = -1, err;

	err = hx_open(&h, &xsk_err);
	if (err)
		return err;
	err = bench_fill(&h, n, ntuples, n / 2);
	if (err)
		goto out;
	memcpy(hit.src, &src, 4);
	err = bench_time(&h, buf, pb_frame(&hit, buf), res->hit + res->n, &act_hit);
	err = err ?: bench_time(&h, buf, pb_frame(&miss, buf), res->miss + res->n, &act_miss);
	res->n += RUNS;
	if (!err && (act_hit != XDP_DROP || act_miss != XDP_PASS)) {
		fprintf(stderr, "bench_xdp_spd: unexpected verdicts %d/%d\n", act_hit, act_miss);
		err = -EPROTO;
	}
out:
	hx_close(&h);
	return err;
}

int main(void)
{
	static const uint32_t sizes[] = { 1, 1000, 100000, 1000000 };
	static const unsigned tuples[] = { 1, 8 };
	static struct result r[2][4];
	double hit[2][4], miss[2][4];

	if (geteuid()) {
		fprintf(stderr, "bench_xdp_spd: needs root\n");
		return 1;
	}
	for (int round = 0; round < ROUNDS; round++)
		for (int t = 0; t < 2; t++)
			for (int s = 0; s < 4; s++) {
				int err = bench_one(sizes[s], tuples[t], &r[t][s]);

				if (err) {
					fprintf(stderr, "bench_xdp_spd: %u policies: %s\n",
						sizes[s], strerror(-err));
					return 1;
				}
			}
	printf("XDP SPD lookup, ns/packet (BPF_PROG_TEST_RUN; median [min] of %d runs)\n",
	       ROUNDS * RUNS);
	printf("%10s %7s %16s %16s\n", "policies", "tuples", "hit (drop)", "miss (pass)");
	for (int t = 0; t < 2; t++)
		for (int s = 0; s < 4; s++) {
			struct result *x = &r[t][s];

			hit[t][s] = bench_median(x->hit, x->n);
			miss[t][s] = bench_median(x->miss, x->n);
			printf("%10u %7u %9.0f [%4.0f] %9.0f [%4.0f]\n", sizes[s], tuples[t],
			       hit[t][s], bench_min(x->hit, x->n), miss[t][s],
			       bench_min(x->miss, x->n));
		}
	for (int t = 0; t < 2; t++)
		printf("ratio 100k/1 (medians), %u tuple(s): hit %.2f, miss %.2f (target <= 1.5)\n",
		       tuples[t], hit[t][2] / hit[t][0], miss[t][2] / miss[t][0]);
	return 0;
}
