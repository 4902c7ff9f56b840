// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * spi_reserve.c - getspi's reservations (spi_reserve.h): a hash by SPI and a list in the
 * order they end (every reservation is held for the same time, so the order they were made
 * in), pruned from its head. Called by cmd_exec.c under the exec lock.
 */
#include <errno.h>
#include <stdlib.h>

#include "lib/htab.h"
#include "lib/list.h"
#include "spi_reserve.h"

struct held {
	uint32_t spi;
	unsigned session;
	uint64_t until_ms;
	struct list node;	/* by until_ms */
};

struct spi_reserve {
	struct htab *by_spi;
	struct list order;
	unsigned count;
};

static bool spi_eq(const void *obj, const void *key)
{
	return ((const struct held *)obj)->spi == *(const uint32_t *)key;
}

struct spi_reserve *spi_reserve_new(void)
{
	struct spi_reserve *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	list_init(&r->order);
	r->by_spi = htab_new(spi_eq);
	if (!r->by_spi) {
		free(r);
		return NULL;
	}
	return r;
}

void spi_reserve_free(struct spi_reserve *r)
{
	struct held *h;

	if (!r)
		return;
	list_for_each(h, &r->order, node)
		free(h);
	htab_free(r->by_spi);
	free(r);
}

static struct held *find(const struct spi_reserve *r, uint32_t spi)
{
	return htab_find(r->by_spi, hash_u32(spi), &spi);
}

static void drop(struct spi_reserve *r, struct held *h)
{
	htab_remove(r->by_spi, hash_u32(h->spi), &h->spi);
	list_del(&h->node);
	r->count--;
	free(h);
}

void spi_reserve_expire(struct spi_reserve *r, uint64_t now_ms)
{
	struct held *h;

	list_for_each(h, &r->order, node) {
		if (h->until_ms > now_ms)
			break;
		drop(r, h);
	}
}

int spi_reserve_take(struct spi_reserve *r, uint32_t spi, unsigned session, uint64_t until_ms,
		     uint64_t now_ms)
{
	struct held *h;

	spi_reserve_expire(r, now_ms);
	if (find(r, spi))
		return -EEXIST;
	if (r->count >= SPI_RESERVE_MAX)
		return -ENOSPC;
	h = calloc(1, sizeof(*h));
	if (!h || htab_reserve(r->by_spi, 1) < 0) {
		free(h);
		return -ENOMEM;
	}
	*h = (struct held){ .spi = spi, .session = session, .until_ms = until_ms };
	htab_insert(r->by_spi, hash_u32(spi), h);
	list_add_tail(&r->order, &h->node);	/* the same hold for all: the end is the latest */
	r->count++;
	return 0;
}

bool spi_reserve_held(const struct spi_reserve *r, uint32_t spi, uint64_t now_ms,
		      unsigned *session, uint64_t *until_ms)
{
	const struct held *h = find(r, spi);

	if (!h || h->until_ms <= now_ms)
		return false;
	if (session)
		*session = h->session;
	if (until_ms)
		*until_ms = h->until_ms;
	return true;
}

void spi_reserve_release(struct spi_reserve *r, uint32_t spi)
{
	struct held *h = find(r, spi);

	if (h)
		drop(r, h);
}

unsigned spi_reserve_count(const struct spi_reserve *r)
{
	return r->count;
}
