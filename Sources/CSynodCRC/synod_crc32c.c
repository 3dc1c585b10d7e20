// CRC-32C for the write-ahead log. Swift cannot reach the crc32 instruction directly, so this one
// small C file holds both paths; the Swift side (Storage/CRC32C.swift) is the only caller.
#include "synod_crc32c.h"

#include <string.h>

#define POLYNOMIAL 0x82F63B78u  // Reflected Castagnoli polynomial.

static uint32_t tables[8][256];
static int tables_ready;

static void build_tables(void) {
    for (uint32_t index = 0; index < 256; index++) {
        uint32_t value = index;
        for (int bit = 0; bit < 8; bit++) value = (value & 1) ? (value >> 1) ^ POLYNOMIAL : value >> 1;
        tables[0][index] = value;
    }
    for (uint32_t index = 0; index < 256; index++) {
        for (int slice = 1; slice < 8; slice++) {
            uint32_t previous = tables[slice - 1][index];
            tables[slice][index] = (previous >> 8) ^ tables[0][previous & 0xff];
        }
    }
    __atomic_store_n(&tables_ready, 1, __ATOMIC_RELEASE);
}

uint32_t synod_crc32c_extend_software(uint32_t crc, const uint8_t *bytes, size_t count) {
    if (!__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE)) build_tables();  // Idempotent: racing builders write equal values.
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        word ^= crc;  // Little-endian: the CRC lines up with the first four bytes.
        crc = tables[7][word & 0xff] ^ tables[6][(word >> 8) & 0xff] ^ tables[5][(word >> 16) & 0xff] ^
              tables[4][(word >> 24) & 0xff] ^ tables[3][(word >> 32) & 0xff] ^ tables[2][(word >> 40) & 0xff] ^
              tables[1][(word >> 48) & 0xff] ^ tables[0][word >> 56];
        bytes += 8;
        count -= 8;
    }
    while (count--) crc = tables[0][(crc ^ *bytes++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t extend_hardware(uint32_t crc, const uint8_t *bytes, size_t count) {
    uint64_t value = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        value = _mm_crc32_u64(value, word);
        bytes += 8;
        count -= 8;
    }
    uint32_t narrow = (uint32_t)value;
    while (count--) narrow = _mm_crc32_u8(narrow, *bytes++);
    return narrow;
}

static int hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t extend_hardware(uint32_t crc, const uint8_t *bytes, size_t count) {
    return synod_crc32c_extend_software(crc, bytes, count);
}
static int hardware_available(void) { return 0; }
#endif

// 0 unknown, 1 hardware, 2 software.
static int path;

static int chosen_path(void) {
    int known = __atomic_load_n(&path, __ATOMIC_RELAXED);
    if (known == 0) {
        known = hardware_available() ? 1 : 2;
        __atomic_store_n(&path, known, __ATOMIC_RELAXED);
    }
    return known;
}

uint32_t synod_crc32c_extend(uint32_t crc, const uint8_t *bytes, size_t count) {
    return chosen_path() == 1 ? extend_hardware(crc, bytes, count) : synod_crc32c_extend_software(crc, bytes, count);
}

int synod_crc32c_is_hardware(void) { return chosen_path() == 1; }
