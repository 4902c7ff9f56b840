// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_crypto_gost.c - crypto_gost.c through the facade: the eight example packets of
 * RFC 9227 Appendix A (K_msg, nonce, IV, ciphertext, ICV, the ESP packet's layout, every
 * bit flip rejected), random round trips for the four transforms, the IV counter of 4.8
 * (pnum -> i3 -> i2 -> i1, the Magma octet limit of section 5, exhaustion, many threads),
 * and the per-slot key-tree cache (derivations counted).
 */
#include "test_util.h"

#include <errno.h>
#include <pthread.h>

#include "crypto.h"
#include "crypto_gost.h"
#include "kdf_tree.h"
#include "mgm.h"

static struct kdf_tree_ctx *kctx;

static int setup(void **state)
{
	(void)state;
	crypto_init(CRYPTO_AUTO);
	if (!crypto_gost_available()) {
		fprintf(stderr, "\n*** test_crypto_gost: SKIPPED: gost-engine not loadable "
				"(crypto_gost_init failed); no GOST transform test ran ***\n\n");
		return 0;
	}
	fprintf(stderr, "    GF(2^n): %s, Magma: %s\n", mgm_gf_name(), crypto_gost_magma_path());
	kctx = kdf_tree_ctx_new();
	return kctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kdf_tree_ctx_free(kctx);
	crypto_fini();
	return 0;
}

static void need_gost(void)
{
	if (!kctx) {
		fprintf(stderr, "*** SKIPPED: gost-engine missing ***\n");
		skip();
	}
}

static bool is_mac(enum aead_cipher c)
{
	return c == AEAD_KUZNYECHIK_MGM_MAC || c == AEAD_MAGMA_MGM_MAC;
}

static bool is_kuz(enum aead_cipher c)
{
	return c == AEAD_KUZNYECHIK_MGM || c == AEAD_KUZNYECHIK_MGM_MAC;
}

/* RFC 9227 Appendix A. For the MAC-only transforms "AAD" is SPI | SN | IV | payload and the
 * plaintext is empty. */
struct pkt {
	const char *name;
	enum aead_cipher c;
	unsigned i1, i2, i3, pnum;
	const char *tkey, *kmsg, *nonce, *iv, *aad, *pt, *ct, *icv, *esp;
};

/* clang-format off */
static const struct pkt pkts[] = {
	{ "ENCR_KUZNYECHIK_MGM_KTREE example 1", AEAD_KUZNYECHIK_MGM, 0x00, 0x0000, 0x0000, 0x000000,
	  "b6 18 0c 14 5c 51 2d bd 69 d9 ce a9 2c ac 1b 5c "
	  "e1 bc fa 73 79 2d 61 af 0b 44 0d 84 b5 22 cc 38 "
	  "7b 67 e6 f2 44 f9 7f 06 78 95 2e 45",
	  "2f f1 c9 0e de 78 6e 06 1e 17 b3 74 d7 82 af 7b "
	  "d8 80 bd 52 7c 66 a2 ba dc 3e 56 9a ab 27 1d a4",
	  "00 00 00 00 7b 67 e6 f2 44 f9 7f 06 78 95 2e 45",
	  "00 00 00 00 00 00 00 00",
	  "51 46 53 6b 00 00 00 01",
	  "45 00 00 3c 23 35 00 00 7f 01 ee cc 0a 6f 0a c5 "
	  "0a 6f 0a 1d 08 00 f3 5b 02 00 58 00 61 62 63 64 "
	  "65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 "
	  "75 76 77 61 62 63 64 65 66 67 68 69 01 02 02 04",
	  "18 9d 12 88 b7 18 f9 ea be 55 4b 23 9b ee 65 96 "
	  "c6 d4 ea fd 31 64 96 ef 90 1c ac 31 60 05 aa 07 "
	  "62 97 b2 24 bf 6d 2b e3 5f d6 f6 7e 7b 9d eb 31 "
	  "85 ff e9 17 9c a9 bf 0b db af c2 3e ae 4d a5 6f",
	  "50 b0 70 a1 5a 2b d9 73 86 89 f8 ed",
	  "45 00 00 70 00 4d 00 00 ff 32 91 4f 0a 6f 0a c5 "
	  "0a 6f 0a 1d 51 46 53 6b 00 00 00 01 00 00 00 00 "
	  "00 00 00 00 18 9d 12 88 b7 18 f9 ea be 55 4b 23 "
	  "9b ee 65 96 c6 d4 ea fd 31 64 96 ef 90 1c ac 31 "
	  "60 05 aa 07 62 97 b2 24 bf 6d 2b e3 5f d6 f6 7e "
	  "7b 9d eb 31 85 ff e9 17 9c a9 bf 0b db af c2 3e "
	  "ae 4d a5 6f 50 b0 70 a1 5a 2b d9 73 86 89 f8 ed" },
	{ "ENCR_KUZNYECHIK_MGM_KTREE example 2", AEAD_KUZNYECHIK_MGM, 0x00, 0x0001, 0x0001, 0x000000,
	  "b6 18 0c 14 5c 51 2d bd 69 d9 ce a9 2c ac 1b 5c "
	  "e1 bc fa 73 79 2d 61 af 0b 44 0d 84 b5 22 cc 38 "
	  "7b 67 e6 f2 44 f9 7f 06 78 95 2e 45",
	  "9a ba c6 57 78 18 0e 6f 2a f6 1f b8 d5 71 62 36 "
	  "66 c2 f5 13 0d 54 e2 11 6c 7d 53 0e 6e 7d 48 bc",
	  "00 00 00 00 7b 67 e6 f2 44 f9 7f 06 78 95 2e 45",
	  "00 00 01 00 01 00 00 00",
	  "51 46 53 6b 00 00 00 10",
	  "45 00 00 3c 23 48 00 00 7f 01 ee b9 0a 6f 0a c5 "
	  "0a 6f 0a 1d 08 00 e4 5b 02 00 67 00 61 62 63 64 "
	  "65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 "
	  "75 76 77 61 62 63 64 65 66 67 68 69 01 02 02 04",
	  "78 0a 2c 62 62 32 15 7b fe 01 76 32 f3 2d b4 d0 "
	  "a4 fa 61 2f 66 c2 bf 79 d5 e2 14 9b ac 1d fc 4b "
	  "15 4b 69 03 4d c2 1d ef 20 90 6d 59 62 81 12 7c "
	  "ff 72 56 ab f0 0b a1 22 bb 5e 6c 71 a4 d4 9a 4d",
	  "c2 2f 87 40 83 8e 3d fa ce 91 cc b8",
	  "45 00 00 70 00 5c 00 00 ff 32 91 40 0a 6f 0a c5 "
	  "0a 6f 0a 1d 51 46 53 6b 00 00 00 10 00 00 01 00 "
	  "01 00 00 00 78 0a 2c 62 62 32 15 7b fe 01 76 32 "
	  "f3 2d b4 d0 a4 fa 61 2f 66 c2 bf 79 d5 e2 14 9b "
	  "ac 1d fc 4b 15 4b 69 03 4d c2 1d ef 20 90 6d 59 "
	  "62 81 12 7c ff 72 56 ab f0 0b a1 22 bb 5e 6c 71 "
	  "a4 d4 9a 4d c2 2f 87 40 83 8e 3d fa ce 91 cc b8" },
	{ "ENCR_MAGMA_MGM_KTREE example 1", AEAD_MAGMA_MGM, 0x00, 0x0000, 0x0000, 0x000000,
	  "5b 50 bf 33 78 87 02 38 f3 ca 74 0f d1 24 ba 6c "
	  "22 83 ef 58 9b e6 f4 6a 89 4a a3 5d 5f 06 b2 03 "
	  "cf 36 63 12",
	  "25 65 21 e2 70 b7 4a 16 4d fc 26 e6 bf 0c ca 76 "
	  "5e 9d 41 02 7d 4b 7b 19 76 2b 1c c9 01 dc de 7f",
	  "00 00 00 00 cf 36 63 12",
	  "00 00 00 00 00 00 00 00",
	  "c8 c2 b2 8d 00 00 00 01",
	  "45 00 00 3c 24 2d 00 00 7f 01 ed d4 0a 6f 0a c5 "
	  "0a 6f 0a 1d 08 00 de 5b 02 00 6d 00 61 62 63 64 "
	  "65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 "
	  "75 76 77 61 62 63 64 65 66 67 68 69 01 02 02 04",
	  "fa 08 40 33 2c 4f 3f c9 64 4d 8c 2c 4a 91 7e 0c "
	  "d8 6f 8e 61 04 03 87 64 6b b9 df bd 91 50 3f 4a "
	  "f5 d2 42 69 49 d3 5a 22 9e 1e 0e fc 99 ac ee 9e "
	  "32 43 e2 3b a4 d1 1e 84 5c 91 a7 19 15 52 cc e8",
	  "5f 4a fa 8b 02 94 0f 5c",
	  "45 00 00 6c 00 62 00 00 ff 32 91 3e 0a 6f 0a c5 "
	  "0a 6f 0a 1d c8 c2 b2 8d 00 00 00 01 00 00 00 00 "
	  "00 00 00 00 fa 08 40 33 2c 4f 3f c9 64 4d 8c 2c "
	  "4a 91 7e 0c d8 6f 8e 61 04 03 87 64 6b b9 df bd "
	  "91 50 3f 4a f5 d2 42 69 49 d3 5a 22 9e 1e 0e fc "
	  "99 ac ee 9e 32 43 e2 3b a4 d1 1e 84 5c 91 a7 19 "
	  "15 52 cc e8 5f 4a fa 8b 02 94 0f 5c" },
	{ "ENCR_MAGMA_MGM_KTREE example 2", AEAD_MAGMA_MGM, 0x00, 0x0001, 0x0001, 0x000000,
	  "5b 50 bf 33 78 87 02 38 f3 ca 74 0f d1 24 ba 6c "
	  "22 83 ef 58 9b e6 f4 6a 89 4a a3 5d 5f 06 b2 03 "
	  "cf 36 63 12",
	  "20 e0 46 d4 09 83 9b 23 f0 66 a5 0a 7a 06 5b 4a "
	  "39 24 4f 0e 29 ef 1e 6f 2e 5d 2e 13 55 f5 da 08",
	  "00 00 00 00 cf 36 63 12",
	  "00 00 01 00 01 00 00 00",
	  "c8 c2 b2 8d 00 00 00 10",
	  "45 00 00 3c 24 40 00 00 7f 01 ed c1 0a 6f 0a c5 "
	  "0a 6f 0a 1d 08 00 cf 5b 02 00 7c 00 61 62 63 64 "
	  "65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 "
	  "75 76 77 61 62 63 64 65 66 67 68 69 01 02 02 04",
	  "7a 71 48 41 a5 34 b7 58 93 6a 8e ab 26 91 40 a8 "
	  "25 a7 f3 5d b9 e4 37 1f e7 6c 99 9c 9b 88 db 72 "
	  "1d c7 59 f6 56 b5 b3 ea b6 b1 4d 6b d7 7a 07 1d "
	  "4b 93 78 bd 08 97 6c 33 ed 9a 01 91 bf fe a1 dd",
	  "dd 5d 50 9a fd b8 09 98",
	  "45 00 00 6c 00 71 00 00 ff 32 91 2f 0a 6f 0a c5 "
	  "0a 6f 0a 1d c8 c2 b2 8d 00 00 00 10 00 00 01 00 "
	  "01 00 00 00 7a 71 48 41 a5 34 b7 58 93 6a 8e ab "
	  "26 91 40 a8 25 a7 f3 5d b9 e4 37 1f e7 6c 99 9c "
	  "9b 88 db 72 1d c7 59 f6 56 b5 b3 ea b6 b1 4d 6b "
	  "d7 7a 07 1d 4b 93 78 bd 08 97 6c 33 ed 9a 01 91 "
	  "bf fe a1 dd dd 5d 50 9a fd b8 09 98" },
	{ "ENCR_KUZNYECHIK_MGM_MAC_KTREE example 1", AEAD_KUZNYECHIK_MGM_MAC, 0x00, 0x0000, 0x0000, 0x000000,
	  "98 bd 34 ce 3b e1 9a 34 65 e4 87 c0 06 48 83 f4 "
	  "88 cc 23 92 63 dc 32 04 91 9b 64 3f e7 57 b2 be "
	  "6c 51 cb ac 93 c4 5b ea 99 62 79 1d",
	  "98 f1 03 01 81 0a 04 1c da dd e1 bd 85 a0 8f 21 "
	  "8b ac b5 7e 00 35 e2 22 c8 31 e3 e4 f0 a2 0c 8f",
	  "00 00 00 00 6c 51 cb ac 93 c4 5b ea 99 62 79 1d",
	  "00 00 00 00 00 00 00 00",
	  "3d ac 92 6a 00 00 00 01 00 00 00 00 00 00 00 00 "
	  "45 00 00 3c 0c f1 00 00 7f 01 05 11 0a 6f 0a c5 "
	  "0a 6f 0a 1d 08 00 48 5c 02 00 03 00 61 62 63 64 "
	  "65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 "
	  "75 76 77 61 62 63 64 65 66 67 68 69 01 02 02 04",
	  "",
	  "",
	  "ca c5 8c e5 e8 8b 4b f3 2d 6c f0 4d",
	  "45 00 00 70 00 01 00 00 ff 32 91 9b 0a 6f 0a c5 "
	  "0a 6f 0a 1d 3d ac 92 6a 00 00 00 01 00 00 00 00 "
	  "00 00 00 00 45 00 00 3c 0c f1 00 00 7f 01 05 11 "
	  "0a 6f 0a c5 0a 6f 0a 1d 08 00 48 5c 02 00 03 00 "
	  "61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 "
	  "71 72 73 74 75 76 77 61 62 63 64 65 66 67 68 69 "
	  "01 02 02 04 ca c5 8c e5 e8 8b 4b f3 2d 6c f0 4d" },
	{ "ENCR_KUZNYECHIK_MGM_MAC_KTREE example 2", AEAD_KUZNYECHIK_MGM_MAC, 0x00, 0x0000, 0x0001, 0x000000,
	  "98 bd 34 ce 3b e1 9a 34 65 e4 87 c0 06 48 83 f4 "
	  "88 cc 23 92 63 dc 32 04 91 9b 64 3f e7 57 b2 be "
	  "6c 51 cb ac 93 c4 5b ea 99 62 79 1d",
	  "02 c5 41 87 7c c6 23 f3 f1 35 91 9a 75 13 b6 f8 "
	  "a8 a1 8c b2 63 99 86 2f 50 81 4f 52 91 01 67 84",
	  "00 00 00 00 6c 51 cb ac 93 c4 5b ea 99 62 79 1d",
	  "00 00 00 00 01 00 00 00",
	  "3d ac 92 6a 00 00 00 06 00 00 00 00 01 00 00 00 "
	  "45 00 00 3c 0c fb 00 00 7f 01 05 07 0a 6f 0a c5 "
	  "0a 6f 0a 1d 08 00 43 5c 02 00 08 00 61 62 63 64 "
	  "65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 "
	  "75 76 77 61 62 63 64 65 66 67 68 69 01 02 02 04",
	  "",
	  "",
	  "ba bc 67 ec 72 a8 c3 1a 89 b4 0e 91",
	  "45 00 00 70 00 06 00 00 ff 32 91 96 0a 6f 0a c5 "
	  "0a 6f 0a 1d 3d ac 92 6a 00 00 00 06 00 00 00 00 "
	  "01 00 00 00 45 00 00 3c 0c fb 00 00 7f 01 05 07 "
	  "0a 6f 0a c5 0a 6f 0a 1d 08 00 43 5c 02 00 08 00 "
	  "61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 "
	  "71 72 73 74 75 76 77 61 62 63 64 65 66 67 68 69 "
	  "01 02 02 04 ba bc 67 ec 72 a8 c3 1a 89 b4 0e 91" },
	{ "ENCR_MAGMA_MGM_MAC_KTREE example 1", AEAD_MAGMA_MGM_MAC, 0x00, 0x0000, 0x0000, 0x000000,
	  "d0 65 b5 30 fa 20 b8 24 c7 57 0c 1d 86 2a e3 39 "
	  "2c 1c 07 6d fa da 69 75 74 4a 07 a8 85 7d bd 30 "
	  "88 79 8f 29",
	  "4c 61 45 99 a0 a0 67 f1 94 87 24 0a e1 00 e1 b7 "
	  "ea f2 3e da f8 7e 38 73 50 86 1c 68 3b a4 04 46",
	  "00 00 00 00 88 79 8f 29",
	  "00 00 00 00 00 00 00 00",
	  "3e 40 69 9c 00 00 00 01 00 00 00 00 00 00 00 00 "
	  "45 00 00 3c 0e 08 00 00 7f 01 03 fa 0a 6f 0a c5 "
	  "0a 6f 0a 1d 08 00 36 5c 02 00 15 00 61 62 63 64 "
	  "65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 "
	  "75 76 77 61 62 63 64 65 66 67 68 69 01 02 02 04",
	  "",
	  "",
	  "4d d4 25 8a 25 35 95 df",
	  "45 00 00 6c 00 13 00 00 ff 32 91 8d 0a 6f 0a c5 "
	  "0a 6f 0a 1d 3e 40 69 9c 00 00 00 01 00 00 00 00 "
	  "00 00 00 00 45 00 00 3c 0e 08 00 00 7f 01 03 fa "
	  "0a 6f 0a c5 0a 6f 0a 1d 08 00 36 5c 02 00 15 00 "
	  "61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 "
	  "71 72 73 74 75 76 77 61 62 63 64 65 66 67 68 69 "
	  "01 02 02 04 4d d4 25 8a 25 35 95 df" },
	{ "ENCR_MAGMA_MGM_MAC_KTREE example 2", AEAD_MAGMA_MGM_MAC, 0x00, 0x0000, 0x0001, 0x000000,
	  "d0 65 b5 30 fa 20 b8 24 c7 57 0c 1d 86 2a e3 39 "
	  "2c 1c 07 6d fa da 69 75 74 4a 07 a8 85 7d bd 30 "
	  "88 79 8f 29",
	  "b4 f3 f9 0d c4 87 fa b8 c4 af d0 eb 45 49 f2 f0 "
	  "e4 36 32 b6 79 19 37 2e 1e 96 09 ea f0 b8 e2 28",
	  "00 00 00 00 88 79 8f 29",
	  "00 00 00 00 01 00 00 00",
	  "3e 40 69 9c 00 00 00 06 00 00 00 00 01 00 00 00 "
	  "45 00 00 3c 0e 13 00 00 7f 01 03 ef 0a 6f 0a c5 "
	  "0a 6f 0a 1d 08 00 31 5c 02 00 1a 00 61 62 63 64 "
	  "65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 "
	  "75 76 77 61 62 63 64 65 66 67 68 69 01 02 02 04",
	  "",
	  "",
	  "84 84 a9 23 30 a0 b1 96",
	  "45 00 00 6c 00 18 00 00 ff 32 91 88 0a 6f 0a c5 "
	  "0a 6f 0a 1d 3e 40 69 9c 00 00 00 06 00 00 00 00 "
	  "01 00 00 00 45 00 00 3c 0e 13 00 00 7f 01 03 ef "
	  "0a 6f 0a c5 0a 6f 0a 1d 08 00 31 5c 02 00 1a 00 "
	  "61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 "
	  "71 72 73 74 75 76 77 61 62 63 64 65 66 67 68 69 "
	  "01 02 02 04 84 84 a9 23 30 a0 b1 96" },
};
/* clang-format on */

struct pkt_bin {
	uint8_t tkey[44], kmsg[32], nonce[16], iv[8], aad[128], pt[128], ct[128], icv[16];
	uint8_t esp[256];
	size_t tklen, nlen, alen, plen, icvlen, esplen;
	/* what the facade gets: SPI | SN, and the ESP payload (clear for MAC-only) */
	const uint8_t *spi_sn, *payload, *sealed;
	size_t len;
};

static void decode_pkt(const struct pkt *v, struct pkt_bin *b)
{
	b->tklen = hex_decode(v->tkey, b->tkey, sizeof(b->tkey));
	assert_int_equal(hex_decode(v->kmsg, b->kmsg, sizeof(b->kmsg)), 32);
	b->nlen = hex_decode(v->nonce, b->nonce, sizeof(b->nonce));
	assert_int_equal(hex_decode(v->iv, b->iv, sizeof(b->iv)), 8);
	b->alen = hex_decode(v->aad, b->aad, sizeof(b->aad));
	b->plen = hex_decode(v->pt, b->pt, sizeof(b->pt));
	assert_int_equal(hex_decode(v->ct, b->ct, sizeof(b->ct)), b->plen);
	b->icvlen = hex_decode(v->icv, b->icv, sizeof(b->icv));
	b->esplen = hex_decode(v->esp, b->esp, sizeof(b->esp));
	assert_int_equal(b->tklen, aead_keymat_len(v->c));
	assert_int_equal(b->icvlen, aead_icv_len_of(v->c));
	b->spi_sn = b->aad;
	if (is_mac(v->c)) {
		assert_int_equal(b->plen, 0);
		assert_memory_equal(b->aad + 8, b->iv, 8);
		b->payload = b->sealed = b->aad + 16;
		b->len = b->alen - 16;
	} else {
		assert_int_equal(b->alen, 8);
		b->payload = b->pt;
		b->sealed = b->ct;
		b->len = b->plen;
	}
}

/* K_msg from the tree, then MGM with K_msg and the example nonce gives ciphertext and ICV. */
static void check_kmsg_nonce(const struct pkt *v, const struct pkt_bin *b)
{
	struct mgm_seg seg = {b->aad, b->alen};
	uint8_t kmsg[32], buf[128], tag[16];
	struct gost_block *blk;
	struct mgm_cipher mc;

	assert_int_equal(
	    kdf_tree_leaf(kctx, b->tkey, (uint8_t)v->i1, (uint16_t)v->i2, (uint16_t)v->i3, kmsg),
	    0);
	assert_memory_equal(kmsg, b->kmsg, 32);
	blk = crypto_gost_block_new(is_kuz(v->c) ? GOST_BLOCK_KUZNYECHIK : GOST_BLOCK_MAGMA, kmsg);
	assert_non_null(blk);
	mc = (struct mgm_cipher){crypto_gost_block_ecb, blk, b->nlen};
	memcpy(buf, b->pt, b->plen);
	assert_int_equal(mgm_encrypt(&mc, b->nonce, &seg, 1, buf, b->plen, tag, b->icvlen), 0);
	assert_memory_equal(buf, b->ct, b->plen);
	assert_memory_equal(tag, b->icv, b->icvlen);
	crypto_gost_block_free(blk);
}

/* The example's tunnel-mode packet: 20-byte outer header | SPI | SN | IV | payload | ICV. */
static void check_esp_layout(const struct pkt_bin *b, const uint8_t *data, const uint8_t *icv)
{
	assert_int_equal(b->esplen, 20 + 8 + 8 + b->len + b->icvlen);
	assert_memory_equal(b->esp + 20, b->spi_sn, 8);
	assert_memory_equal(b->esp + 28, b->iv, 8);
	assert_memory_equal(b->esp + 36, data, b->len);
	assert_memory_equal(b->esp + 36 + b->len, icv, b->icvlen);
}

/* Every bit of SPI|SN, IV, payload and ICV flipped in turn: -EBADMSG, payload unchanged. */
static void flip_every_bit(struct aead *a, const struct pkt_bin *b)
{
	size_t total = (8 + 8 + b->len + b->icvlen) * 8;

	for (size_t bit = 0; bit < total; bit++) {
		uint8_t spi_sn[8], iv[8], data[128], icv[16];
		struct aead_req r = {spi_sn, 8, iv, data, b->len, icv};
		uint8_t *p[] = {spi_sn, iv, data, icv};
		size_t lens[] = {8, 8, b->len, b->icvlen}, byte = bit / 8, k = 0;

		memcpy(spi_sn, b->spi_sn, 8);
		memcpy(iv, b->iv, 8);
		memcpy(data, b->sealed, b->len);
		memcpy(icv, b->icv, b->icvlen);
		while (byte >= lens[k])
			byte -= lens[k++];
		p[k][byte] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(aead_open(a, 0, &r), -EBADMSG);
		if (k == 2)
			data[byte] ^= (uint8_t)(1u << (bit % 8));
		assert_memory_equal(data, b->sealed, b->len);
	}
}

static void check_packet(const struct pkt *v)
{
	struct pkt_bin b;
	uint8_t iv[8], nonce[16], data[128], icv[16];
	struct aead_req r = {NULL, 8, iv, data, 0, icv};
	struct aead *a;

	fprintf(stderr, "    %s\n", v->name);
	decode_pkt(v, &b);
	check_kmsg_nonce(v, &b);
	a = aead_new(v->c, b.tkey, b.tklen, 1);
	assert_non_null(a);
	assert_int_equal(aead_icv_len(a), b.icvlen);
	/* IV and nonce from i1/i2/i3/pnum */
	assert_int_equal(
	    crypto_gost_set_iv(a, (uint8_t)v->i1, (uint16_t)v->i2, (uint16_t)v->i3, v->pnum), 0);
	assert_int_equal(aead_next_iv(a, 1, b.len, iv), 0);
	assert_memory_equal(iv, b.iv, 8);
	assert_int_equal(crypto_gost_nonce(a, iv, nonce), b.nlen);
	assert_memory_equal(nonce, b.nonce, b.nlen);
	/* seal */
	r.aad = b.spi_sn;
	r.len = b.len;
	memcpy(data, b.payload, b.len);
	assert_int_equal(aead_seal(a, 0, &r), 0);
	assert_memory_equal(data, b.sealed, b.len);
	assert_memory_equal(icv, b.icv, b.icvlen);
	check_esp_layout(&b, data, icv);
	/* open */
	assert_int_equal(aead_open(a, 0, &r), 0);
	assert_memory_equal(data, b.payload, b.len);
	flip_every_bit(a, &b);
	aead_free(a);
}

/* Under both GF(2^n) backends (pclmul only where the CPU has it). */
static void test_rfc9227_examples(void **state)
{
	static const enum mgm_gf_impl impls[] = {MGM_GF_PCLMUL, MGM_GF_PORTABLE};

	(void)state;
	need_gost();
	for (size_t k = 0; k < 2; k++) {
		if (mgm_gf_select(impls[k])) {
			fprintf(stderr,
				"    note: no PCLMULQDQ on this CPU, portable backend only\n");
			continue;
		}
		fprintf(stderr, "  GF(2^n) backend: %s\n", mgm_gf_name());
		for (size_t i = 0; i < sizeof(pkts) / sizeof(pkts[0]); i++)
			check_packet(&pkts[i]);
	}
	mgm_gf_select(MGM_GF_AUTO);
}

/* --- round trips ---------------------------------------------------------------------------- */
static const enum aead_cipher gost_ciphers[] = {
    AEAD_KUZNYECHIK_MGM,
    AEAD_MAGMA_MGM,
    AEAD_KUZNYECHIK_MGM_MAC,
    AEAD_MAGMA_MGM_MAC,
};

static struct aead *random_sa(enum aead_cipher c, unsigned nthreads, uint64_t *rng)
{
	uint8_t km[ESP_KEYMAT_MAX];
	struct aead *a;

	test_rand_bytes(rng, km, sizeof(km));
	a = aead_new(c, km, aead_keymat_len(c), nthreads);
	assert_non_null(a);
	return a;
}

static void round_trip(struct aead *a, size_t len, uint64_t *rng, int i)
{
	static uint8_t pt[2048], data[2048];
	uint8_t aad[12], iv[8], icv[16];
	struct aead_req r = {aad, i % 3 ? 8 : 12, iv, data, len, icv};
	size_t icvlen = aead_icv_len(a), bit;

	test_rand_bytes(rng, aad, sizeof(aad));
	test_rand_bytes(rng, pt, len);
	memcpy(data, pt, len);
	assert_int_equal(aead_next_iv(a, (uint64_t)i, len, iv), 0);
	assert_int_equal(aead_seal(a, (unsigned)i % 2, &r), 0);
	if (is_mac(aead_cipher(a)))
		assert_memory_equal(data, pt, len); /* nothing encrypted */
	else if (len >= 16)
		assert_memory_not_equal(data, pt, len);
	assert_int_equal(aead_open(a, (unsigned)(i + 1) % 2, &r), 0);
	assert_memory_equal(data, pt, len);
	/* one bit somewhere in SPI|SN, IV, payload or ICV */
	assert_int_equal(aead_seal(a, 0, &r), 0);
	bit = test_rand(rng) % ((r.aad_len + 8 + len + icvlen) * 8);
	if (bit < r.aad_len * 8)
		aad[bit / 8] ^= (uint8_t)(1u << bit % 8);
	else if ((bit -= r.aad_len * 8) < 64)
		iv[bit / 8] ^= (uint8_t)(1u << bit % 8);
	else if ((bit -= 64) < len * 8)
		data[bit / 8] ^= (uint8_t)(1u << bit % 8);
	else
		icv[(bit - len * 8) / 8] ^= (uint8_t)(1u << bit % 8);
	assert_int_equal(aead_open(a, 1, &r), -EBADMSG);
}

static void test_round_trips(void **state)
{
	uint64_t rng = 2024;

	(void)state;
	need_gost();
	for (size_t c = 0; c < 4; c++) {
		struct aead *a = random_sa(gost_ciphers[c], 2, &rng);

		for (int i = 0; i < 400; i++)
			round_trip(a, i < 4 ? (size_t)i : test_rand(&rng) % 2001, &rng, i);
		round_trip(a, 2000, &rng, 1);
		aead_free(a);
	}
}

/* The same packet sealed on either thread slot gives the same bytes. */
static void test_slots_agree(void **state)
{
	uint64_t rng = 77;

	(void)state;
	need_gost();
	for (size_t c = 0; c < 4; c++) {
		struct aead *a = random_sa(gost_ciphers[c], 3, &rng);
		uint8_t aad[8] = {1, 2, 3, 4, 0, 0, 0, 9}, iv[8] = {0, 0, 2, 0, 3, 0, 0, 7};
		uint8_t d0[300], d2[300], icv0[16], icv2[16];
		struct aead_req r0 = {aad, 8, iv, d0, sizeof(d0), icv0};
		struct aead_req r2 = {aad, 8, iv, d2, sizeof(d2), icv2};

		test_rand_bytes(&rng, d0, sizeof(d0));
		memcpy(d2, d0, sizeof(d0));
		assert_int_equal(aead_seal(a, 0, &r0), 0);
		assert_int_equal(aead_seal(a, 2, &r2), 0);
		assert_memory_equal(d0, d2, sizeof(d0));
		assert_memory_equal(icv0, icv2, aead_icv_len(a));
		assert_int_equal(aead_seal(a, 3, &r2), -EINVAL); /* no such slot */
		aead_free(a);
	}
}

/* --- the IV counter (RFC 9227 4.2, 4.8, 5) -------------------------------------------------- */
static void expect_iv(struct aead *a, size_t len, unsigned i1, unsigned i2, unsigned i3,
		      unsigned pnum)
{
	uint8_t iv[8],
	    want[8] = {
		(uint8_t)i1, (uint8_t)(i2 >> 8),    (uint8_t)i2,	  (uint8_t)(i3 >> 8),
		(uint8_t)i3, (uint8_t)(pnum >> 16), (uint8_t)(pnum >> 8), (uint8_t)pnum,
	    };

	assert_int_equal(aead_next_iv(a, 0, len, iv), 0);
	assert_memory_equal(iv, want, 8);
}

static void test_iv_rollovers(void **state)
{
	uint64_t rng = 5;
	struct aead *a;
	uint8_t iv[8];

	(void)state;
	need_gost();
	a = random_sa(AEAD_KUZNYECHIK_MGM, 1, &rng);
	expect_iv(a, 100, 0, 0, 0, 0); /* starts at zero, not at the SN */
	expect_iv(a, 100, 0, 0, 0, 1);
	assert_int_equal(crypto_gost_set_iv(a, 0, 0, 0, 0xfffffe), 0);
	expect_iv(a, 100, 0, 0, 0, 0xfffffe);
	expect_iv(a, 100, 0, 0, 0, 0xffffff);
	expect_iv(a, 100, 0, 0, 1, 0); /* pnum -> i3 */
	expect_iv(a, 100, 0, 0, 1, 1);
	assert_int_equal(crypto_gost_set_iv(a, 0, 7, 0xffff, 0xffffff), 0);
	expect_iv(a, 100, 0, 7, 0xffff, 0xffffff);
	expect_iv(a, 100, 0, 8, 0, 0); /* i3 -> i2 */
	assert_int_equal(crypto_gost_set_iv(a, 3, 0xffff, 0xffff, 0xffffff), 0);
	expect_iv(a, 100, 3, 0xffff, 0xffff, 0xffffff);
	expect_iv(a, 100, 4, 0, 0, 0); /* i2 -> i1 */
	assert_int_equal(crypto_gost_set_iv(a, 0xff, 0xffff, 0xffff, 0xfffffe), 0);
	expect_iv(a, 100, 0xff, 0xffff, 0xffff, 0xfffffe);
	expect_iv(a, 100, 0xff, 0xffff, 0xffff, 0xffffff); /* the very last one */
	assert_int_equal(aead_next_iv(a, 0, 100, iv), -ENOSPC);
	assert_int_equal(aead_next_iv(a, 0, 0, iv), -ENOSPC); /* and it stays so */
	assert_int_equal(crypto_gost_set_iv(a, 0, 0, 0, 0x1000000), -EINVAL);
	aead_free(a);
}

/* Magma: a new leaf before the octets under one would pass 2^28; Kuznyechik's 2^41 is out
 * of reach, so the same traffic stays on one leaf. */
static void test_octet_limit(void **state)
{
	const size_t len = 65000, per_leaf = ((size_t)1 << 28) / len;
	uint64_t rng = 6;

	(void)state;
	need_gost();
	for (int kuz = 0; kuz < 2; kuz++) {
		struct aead *a = random_sa(kuz ? AEAD_KUZNYECHIK_MGM : AEAD_MAGMA_MGM_MAC, 1, &rng);

		for (size_t i = 0; i < per_leaf; i++)
			expect_iv(a, len, 0, 0, 0, (unsigned)i);
		if (kuz)
			expect_iv(a, len, 0, 0, 0, (unsigned)per_leaf);
		else
			expect_iv(a, len, 0, 0, 1, 0);
		/* set_iv starts a fresh octet count */
		assert_int_equal(crypto_gost_set_iv(a, 0, 0, 9, 5), 0);
		for (size_t i = 0; i < per_leaf; i++)
			expect_iv(a, len, 0, 0, 9, 5 + (unsigned)i);
		expect_iv(a, len, 0, 0, kuz ? 9 : 10, kuz ? 5 + (unsigned)per_leaf : 0);
		/* exactly 2^28 octets fit on one leaf, one more does not */
		assert_int_equal(crypto_gost_set_iv(a, 0, 0, 20, 0), 0);
		expect_iv(a, ((size_t)1 << 28) - 100, 0, 0, 20, 0);
		expect_iv(a, 100, 0, 0, 20, 1);
		expect_iv(a, 1, 0, 0, kuz ? 20 : 21, kuz ? 2 : 0);
		aead_free(a);
	}
}

#define IV_THREADS    4
#define IV_PER_THREAD 50000

struct iv_job {
	struct aead *a;
	uint64_t ivs[IV_PER_THREAD];
};

static void *iv_worker(void *arg)
{
	struct iv_job *j = arg;

	for (int i = 0; i < IV_PER_THREAD; i++) {
		uint8_t iv[8];
		uint64_t v = 0;

		if (aead_next_iv(j->a, 0, 64, iv))
			return NULL;
		for (int k = 0; k < 8; k++)
			v = v << 8 | iv[k];
		j->ivs[i] = v;
	}
	return j;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Threads draw IVs from one SA at once: every IV is handed out exactly once. */
static void test_iv_threads(void **state)
{
	static struct iv_job jobs[IV_THREADS];
	static uint64_t all[IV_THREADS * IV_PER_THREAD];
	pthread_t th[IV_THREADS];
	uint64_t rng = 8;
	struct aead *a;

	(void)state;
	need_gost();
	a = random_sa(AEAD_MAGMA_MGM, 1, &rng);
	assert_int_equal(crypto_gost_set_iv(a, 0, 0, 0, 0xffffff - 70000), 0);
	for (int t = 0; t < IV_THREADS; t++) {
		jobs[t].a = a;
		assert_int_equal(pthread_create(&th[t], NULL, iv_worker, &jobs[t]), 0);
	}
	for (int t = 0; t < IV_THREADS; t++) {
		void *ret;

		assert_int_equal(pthread_join(th[t], &ret), 0);
		assert_ptr_equal(ret, &jobs[t]);
		memcpy(all + t * IV_PER_THREAD, jobs[t].ivs, sizeof(jobs[t].ivs));
	}
	qsort(all, IV_THREADS * IV_PER_THREAD, sizeof(all[0]), cmp_u64);
	/* one contiguous run: leaf 0 up to its last pnum, then on into leaf 1 */
	assert_int_equal(all[0], 0xffffff - 70000);
	for (size_t i = 1; i < IV_THREADS * IV_PER_THREAD; i++) {
		uint64_t prev = all[i - 1], cur = all[i];

		if ((prev & 0xffffff) == 0xffffff)
			assert_int_equal(cur, ((prev >> 24) + 1) << 24);
		else
			assert_int_equal(cur, prev + 1);
	}
	aead_free(a);
}

/* --- key-tree cache ------------------------------------------------------------------------- */
static int seal_iv(struct aead *a, unsigned slot, unsigned i1, unsigned i2, unsigned i3,
		   unsigned pnum)
{
	uint8_t aad[8] = {0}, data[40] = {0}, icv[16];
	uint8_t iv[8] = {
	    (uint8_t)i1, (uint8_t)(i2 >> 8),	(uint8_t)i2,	      (uint8_t)(i3 >> 8),
	    (uint8_t)i3, (uint8_t)(pnum >> 16), (uint8_t)(pnum >> 8), (uint8_t)pnum,
	};
	struct aead_req r = {aad, 8, iv, data, sizeof(data), icv};

	return aead_seal(a, slot, &r);
}

static void test_derivation_cache(void **state)
{
	static const struct {
		unsigned slot, i1, i2, i3, pnum;
		uint64_t total; /* KDF calls so far */
	} steps[] = {
	    {0, 0, 0, 0, 0, 3},			      /* first packet: level 1, 2, 3 */
	    {0, 0, 0, 0, 1, 3},			      /* same leaf */
	    {0, 0, 0, 0, 99, 3}, {1, 0, 0, 0, 2, 6},  /* another slot has its own cache */
	    {0, 0, 0, 1, 0, 7},			      /* i3: the leaf only */
	    {0, 0, 0, 1, 5, 7},	 {0, 0, 1, 1, 0, 9},  /* i2: level 2 and the leaf */
	    {0, 1, 1, 1, 0, 12},		      /* i1: all three */
	    {0, 1, 1, 1, 7, 12}, {1, 0, 0, 0, 3, 12}, /* slot 1 still holds (0, 0, 0) */
	    {0, 1, 1, 2, 0, 13}, {0, 1, 1, 1, 8, 14}, /* back to an older leaf: derived again */
	};
	uint64_t rng = 11;

	(void)state;
	need_gost();
	for (size_t c = 0; c < 4; c++) {
		struct aead *a = random_sa(gost_ciphers[c], 2, &rng);

		assert_int_equal(crypto_gost_derivations(a), 0);
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			assert_int_equal(seal_iv(a, steps[i].slot, steps[i].i1, steps[i].i2,
						 steps[i].i3, steps[i].pnum),
					 0);
			assert_int_equal(crypto_gost_derivations(a), steps[i].total);
		}
		aead_free(a);
	}
}

/* A forged IV on the receive side costs derivations (counted) and fails the ICV. */
static void test_forged_indices(void **state)
{
	uint64_t rng = 12;
	struct aead *a;
	uint8_t aad[8] = {0}, iv[8] = {0}, data[64] = {0}, icv[16];
	struct aead_req r = {aad, 8, iv, data, sizeof(data), icv};

	(void)state;
	need_gost();
	a = random_sa(AEAD_KUZNYECHIK_MGM, 1, &rng);
	assert_int_equal(aead_next_iv(a, 0, sizeof(data), iv), 0);
	assert_int_equal(aead_seal(a, 0, &r), 0);
	assert_int_equal(crypto_gost_derivations(a), 3);
	iv[0] = 0x42; /* i1 */
	assert_int_equal(aead_open(a, 0, &r), -EBADMSG);
	assert_int_equal(crypto_gost_derivations(a), 6);
	iv[0] = 0;
	assert_int_equal(aead_open(a, 0, &r), 0);
	assert_int_equal(crypto_gost_derivations(a), 9);
	aead_free(a);
}

static void test_not_gost(void **state)
{
	uint8_t km[20] = {0}, iv[8] = {0}, nonce[16];
	struct aead *a;

	(void)state;
	a = aead_new(AEAD_AES128_GCM, km, sizeof(km), 1);
	assert_non_null(a);
	assert_int_equal(crypto_gost_set_iv(a, 0, 0, 0, 0), -EINVAL);
	assert_int_equal(crypto_gost_derivations(a), 0);
	assert_int_equal(crypto_gost_nonce(a, iv, nonce), 0);
	aead_free(a);
	assert_int_equal(crypto_gost_set_iv(NULL, 0, 0, 0, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc9227_examples), cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_slots_agree),	     cmocka_unit_test(test_iv_rollovers),
	    cmocka_unit_test(test_octet_limit),	     cmocka_unit_test(test_iv_threads),
	    cmocka_unit_test(test_derivation_cache), cmocka_unit_test(test_forged_indices),
	    cmocka_unit_test(test_not_gost),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
