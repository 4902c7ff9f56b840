// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * slab.c - see slab.h. A chunk is one mmap, its first bytes the link to the previous chunk;
 * objects follow, aligned. Freed objects form a LIFO list through their first word.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_MALLOC 1
#endif
#endif
#ifndef SLAB_MALLOC
#define SLAB_MALLOC 0
#endif

#define CHUNK_MIN  (64u << 10)
#define CHUNK_HUGE (2u << 20)	/* a transparent huge page; the largest chunk */

struct slab_chunk {
	struct slab_chunk *prev;
	size_t size;
};

void slab_init(struct slab *s, size_t size, size_t align)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->align = align < 8 ? 8 : align;
	s->size = (size + s->align - 1) & ~(s->align - 1);
}

/* A new chunk, 2 MB-aligned when it is 2 MB so that the kernel can back it with one huge
 * page. */
static int chunk_new(struct slab *s)
{
	size_t size = s->chunk_size < CHUNK_MIN ? CHUNK_MIN : s->chunk_size;
	size_t map = size == CHUNK_HUGE ? 2 * size : size;
	char *p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct slab_chunk *c;
	uintptr_t at;

	if (p == MAP_FAILED)
		return -ENOMEM;
	if (map != size) {	/* keep the aligned 2 MB in the middle */
		char *aligned = (char *)(((uintptr_t)p + size - 1) & ~((uintptr_t)size - 1));

		if (aligned > p)
			munmap(p, (size_t)(aligned - p));
		if (aligned + size < p + map)
			munmap(aligned + size, (size_t)(p + map - aligned - size));
		p = aligned;
		madvise(p, size, MADV_HUGEPAGE);
	}
	c = (struct slab_chunk *)p;
	c->prev = s->chunks;
	c->size = size;
	s->chunks = c;
	at = ((uintptr_t)(c + 1) + s->align - 1) & ~(uintptr_t)(s->align - 1);
	s->cur = (char *)at;
	s->end = p + size;
	s->chunk_size = size * 2 > CHUNK_HUGE ? CHUNK_HUGE : size * 2;
	return 0;
}

static void *carve(struct slab *s)
{
	void *p;

	if (s->free) {
		p = s->free;
		memcpy(&s->free, p, sizeof(void *));
		return p;
	}
	if ((size_t)(s->end - s->cur) < s->size && chunk_new(s) < 0)
		return NULL;
	p = s->cur;
	s->cur += s->size;
	return p;
}

void *slab_alloc(struct slab *s)
{
	void *p = SLAB_MALLOC ? aligned_alloc(s->align, s->size) : NULL;

	pthread_mutex_lock(&s->lock);
	if (!SLAB_MALLOC)
		p = carve(s);
	if (p)
		s->in_use++;
	pthread_mutex_unlock(&s->lock);
	if (!p)
		errno = ENOMEM;
	return p;
}

void slab_free(struct slab *s, void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&s->lock);
	s->in_use--;
	if (!SLAB_MALLOC) {
		memcpy(p, &s->free, sizeof(void *));
		s->free = p;
	}
	pthread_mutex_unlock(&s->lock);
	if (SLAB_MALLOC)
		free(p);
}

size_t slab_in_use(struct slab *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->in_use;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void slab_fini(struct slab *s)
{
	while (s->chunks) {
		struct slab_chunk *c = s->chunks;

		s->chunks = c->prev;
		munmap(c, c->size);
	}
	s->free = s->cur = s->end = NULL;
	s->chunk_size = 0;
	s->in_use = 0;
}
