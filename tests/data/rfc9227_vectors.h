/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rfc9227_vectors.h - the eight example packets of RFC 9227 Appendix A, two per transform,
 * as the RFC prints them: transform key, i1/i2/i3/pnum, K_msg, nonce, IV, AAD, plaintext,
 * ciphertext, ICV and the complete tunnel-mode packet (outer IPv4 10.111.10.197 ->
 * 10.111.10.29, ESP, inner IPv4 with next header 4). For the MAC-only transforms "AAD" is
 * SPI | SN | IV | payload and the plaintext and ciphertext are empty. Used by
 * test_crypto_gost.c (the facade) and test_esp_gost.c (ESP in and out).
 */
#ifndef RFC9227_VECTORS_H
#define RFC9227_VECTORS_H

#include "crypto/crypto.h"

struct rfc9227_pkt {
	const char *name;
	enum aead_cipher c;
	unsigned i1, i2, i3, pnum;
	const char *tkey, *kmsg, *nonce, *iv, *aad, *pt, *ct, *icv, *esp;
};

/* clang-format off */
static const struct rfc9227_pkt rfc9227_pkts[] = {
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

#define RFC9227_NPKTS (sizeof(rfc9227_pkts) / sizeof(rfc9227_pkts[0]))

#endif
