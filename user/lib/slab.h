/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * slab.h - fixed-size objects carved from large chunks, for the control plane's millions of
 * small objects (SAs, policies, SPD entries, key-history entries): no per-object
 * header, objects of one kind packed together (a lookup touches fewer pages), freed objects
 * reused first. Chunks grow from 64 KB to 2 MB; the 2 MB ones ask for transparent huge pages
 * (fewer TLB misses on the random accesses of big tables) and are faulted in one ahead by a
 * helper thread (the kernel zeroes them on another CPU). Memory goes back to the system
 * only at slab_fini: after a flush the objects wait in the free list for the next load.
 * Thread-safe (one mutex per slab; the control thread allocates, the control thread and
 * the housekeeper free). Under AddressSanitizer every object is its own malloc, so that
 * use-after-free and leaks are still caught.
 *
 * Objects are not zeroed; whoever frees one holding a secret wipes it first (wipe.h).
 */
#ifndef ESPER_SLAB_H
#define ESPER_SLAB_H

#include <pthread.h>
#include <stddef.h>

struct slab_chunk;

struct slab {
	pthread_mutex_t lock;
	size_t size;			/* object size, a multiple of align */
	size_t align;			/* a power of two, at least 8 */
	void *free;			/* freed objects, linked through their first word */
	char *cur, *end;		/* the rest of the newest chunk */
	char *ahead;			/* the next 2 MB chunk, being faulted in (slab.c) */
	size_t chunk_size;		/* of the next chunk */
	struct slab_chunk *chunks;	/* every chunk, for slab_fini */
	size_t in_use;			/* objects handed out and not freed */
};

#define SLAB_INIT(type, alignment)                                                              \
	{ .lock = PTHREAD_MUTEX_INITIALIZER,                                                    \
	  .size = (sizeof(type) + (alignment) - 1) & ~((size_t)(alignment) - 1),                \
	  .align = (alignment) }

void slab_init(struct slab *s, size_t size, size_t align);
void slab_fini(struct slab *s);		/* frees every chunk: no object may be in use */

void *slab_alloc(struct slab *s);	/* NULL with errno set */
void slab_free(struct slab *s, void *p);	/* NULL is a no-op */
size_t slab_in_use(struct slab *s);

#endif
