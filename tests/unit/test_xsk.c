// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xsk.c - what xsk.c promises the worker about the frames it hands to the kernel
 * (xsk_refill), on a UMEM and a fill ring made in memory (no socket): every frame enters the
 * fill ring with its metadata slot (where XDP writes its verdict, in front of the received
 * data) zeroed, whatever an earlier use of the frame left there. Frames read from the host
 * port hold the host packet's bytes 244-255 at that place; were they left, a driver that
 * cannot store metadata would let them pass for XDP's policy id (user/datapath/worker.c).
 */
#include <stdlib.h>
#include <string.h>

#include "datapath/xsk.h"
#include "test_util.h"

enum { NFRAMES = 512 };	/* more than xsk_refill's reserve of 256 */

static void test_refill_wipes_metadata_slot(void **state)
{
	static uint64_t ring[XSK_RING_SIZE];
	uint32_t prod = 0, cons = 0, flags = 0;
	struct xsk_set s = { 0 };
	struct xsk_port *p = &s.port[0];
	const struct esper_meta forged = { ESPER_META_MAGIC, ESPER_META_PLAIN_OUT, 7 };

	(void)state;
	s.pool.area = aligned_alloc(XSK_FRAME_SIZE, NFRAMES * XSK_FRAME_SIZE);
	s.pool.free = calloc(NFRAMES, sizeof(*s.pool.free));
	assert_non_null(s.pool.area);
	assert_non_null(s.pool.free);
	s.pool.nframes = NFRAMES;
	for (uint32_t i = 0; i < NFRAMES; i++) {
		uint8_t *f = (uint8_t *)s.pool.area + (size_t)i * XSK_FRAME_SIZE;

		memset(f, 0xa5, XSK_FRAME_SIZE);
		memcpy(f + XSK_RX_DATA - sizeof(forged), &forged, sizeof(forged));
		s.pool.free[s.pool.nfree++] = (uint64_t)i * XSK_FRAME_SIZE;
	}
	p->fill = (struct xsk_ring_prod){ .cached_cons = XSK_RING_SIZE, .mask = XSK_RING_SIZE - 1,
					  .size = XSK_RING_SIZE, .producer = &prod,
					  .consumer = &cons, .ring = ring, .flags = &flags };
	s.pool.nfree = NFRAMES;
	xsk_refill(&s, p);
	assert_true(prod > 0);
	for (uint32_t i = 0; i < prod; i++) {
		const uint8_t *f = xsk_frame(&s, ring[i]);
		struct esper_meta m;

		memcpy(&m, f + XSK_RX_DATA - sizeof(m), sizeof(m));
		if (m.magic || m.kind || m.id)
			fail_msg("frame %#llx enters the fill ring with metadata %08x %u %u",
				 (unsigned long long)ring[i], m.magic, m.kind, m.id);
		assert_int_equal(f[XSK_RX_DATA - sizeof(m) - 1], 0xa5);	/* nothing else */
		assert_int_equal(f[XSK_RX_DATA], 0xa5);
	}
	free(s.pool.free);
	free(s.pool.area);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refill_wipes_metadata_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
