// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * slab.c - see slab.h. A chunk is one mmap, its first bytes the link to the previous chunk;
 * objects follow, aligned. Freed objects form a LIFO list through their first word.
 *
 * Fresh memory costs the kernel a zeroing at first touch (on the VMs this runs on, seconds
 * per gigabyte: a third of the time a million SAs took to load). So each slab maps its next
 * 2 MB chunk ahead, and a helper thread faults it in (MADV_POPULATE_WRITE, which changes no
 * byte) while the caller fills the current one: the zeroing moves to another CPU. Without
 * that madvise (kernels before 5.14) the chunk is faulted in at first touch, as before.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
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

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

struct slab_chunk {
	struct slab_chunk *prev;
	size_t size;
};

/* --- faulting chunks in ahead of use --------------------------------------------------------
 * One helper thread for every slab, started with the first request; requests beyond the
 * queue are dropped (the chunk is then faulted in at first touch). */

#define PREFAULT_QUEUE 16

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void *addr[PREFAULT_QUEUE];
	unsigned head, n;
	bool started, failed;
} pf = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *prefault_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pf.lock);
	for (;;) {
		void *addr;

		while (!pf.n)
			pthread_cond_wait(&pf.cond, &pf.lock);
		addr = pf.addr[pf.head];
		pf.head = (pf.head + 1) % PREFAULT_QUEUE;
		pf.n--;
		pthread_mutex_unlock(&pf.lock);
		madvise(addr, CHUNK_HUGE, MADV_POPULATE_WRITE);	/* no byte changes */
		pthread_mutex_lock(&pf.lock);
	}
	return NULL;
}

static bool prefault_start(void)
{
	sigset_t all, old;
	pthread_t t;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);	/* signals stay with the caller's threads */
	err = pthread_create(&t, NULL, prefault_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return false;
	pthread_detach(t);
	return true;
}

static void prefault(void *addr)
{
	pthread_mutex_lock(&pf.lock);
	if (!pf.started && !pf.failed)
		pf.failed = !(pf.started = prefault_start());
	if (pf.started && pf.n < PREFAULT_QUEUE) {
		pf.addr[(pf.head + pf.n++) % PREFAULT_QUEUE] = addr;
		pthread_cond_signal(&pf.cond);
	}
	pthread_mutex_unlock(&pf.lock);
}

void slab_init(struct slab *s, size_t size, size_t align)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->align = align < 8 ? 8 : align;
	s->size = (size + s->align - 1) & ~(s->align - 1);
}

/* size bytes of fresh memory, 2 MB-aligned when it is 2 MB so that the kernel can back it
 * with one huge page. NULL if none. */
static char *chunk_map(size_t size)
{
	size_t map = size == CHUNK_HUGE ? 2 * size : size;
	char *p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (map != size) {	/* keep the aligned 2 MB in the middle */
		char *aligned = (char *)(((uintptr_t)p + size - 1) & ~((uintptr_t)size - 1));

		if (aligned > p)
			munmap(p, (size_t)(aligned - p));
		if (aligned + size < p + map)
			munmap(aligned + size, (size_t)(p + map - aligned - size));
		p = aligned;
		madvise(p, size, MADV_HUGEPAGE);
	}
	return p;
}

/* The next chunk: the one mapped ahead if it is a 2 MB one, and the one after that mapped
 * and handed to the helper thread. */
static int chunk_new(struct slab *s)
{
	size_t size = s->chunk_size < CHUNK_MIN ? CHUNK_MIN : s->chunk_size;
	struct slab_chunk *c;
	char *p = NULL;
	uintptr_t at;

	if (size == CHUNK_HUGE && s->ahead) {
		p = s->ahead;
		s->ahead = NULL;
	}
	if (!p && !(p = chunk_map(size)))
		return -ENOMEM;
	if (size == CHUNK_HUGE && (s->ahead = chunk_map(size)))
		prefault(s->ahead);
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
	if (s->ahead)
		munmap(s->ahead, CHUNK_HUGE);
	s->free = s->cur = s->end = s->ahead = NULL;
	s->chunk_size = 0;
	s->in_use = 0;
}
