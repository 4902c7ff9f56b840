/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * spi_reserve.h - the SPIs `getspi` reserved (PF_KEY's SADB_GETSPI, RFC 2367 2.3.3, whose
 * larval SA this stands for): each for one session (stdin, or a control socket client), for
 * a bounded time. An `add` with a reserved SPI is refused unless it comes from that session,
 * and consumes the reservation; no other getspi picks it. Owner: the executor (under the
 * exec lock); every call passes the time, so tests need no clock.
 */
#ifndef ESPER_SPI_RESERVE_H
#define ESPER_SPI_RESERVE_H

#include <stdbool.h>
#include <stdint.h>

#define SPI_RESERVE_MAX 65536	/* reservations at once */

struct spi_reserve;

struct spi_reserve *spi_reserve_new(void);
void spi_reserve_free(struct spi_reserve *r);	/* NULL is a no-op */

/* Reserve spi for session until until_ms: 0, -EEXIST (held), -ENOSPC (too many), -ENOMEM. */
int spi_reserve_take(struct spi_reserve *r, uint32_t spi, unsigned session, uint64_t until_ms,
		     uint64_t now_ms);
/* Is spi held at now_ms? *session: by whom, *until_ms: until when (either may be NULL). */
bool spi_reserve_held(const struct spi_reserve *r, uint32_t spi, uint64_t now_ms,
		      unsigned *session, uint64_t *until_ms);
void spi_reserve_release(struct spi_reserve *r, uint32_t spi);
void spi_reserve_expire(struct spi_reserve *r, uint64_t now_ms);	/* forget the old */
unsigned spi_reserve_count(const struct spi_reserve *r);

#endif
