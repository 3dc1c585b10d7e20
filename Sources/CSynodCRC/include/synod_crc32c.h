#ifndef SYNOD_CRC32C_H
#define SYNOD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Continues a CRC-32C (Castagnoli) over `count` bytes. `crc` is the running checksum before
/// inversion, as Storage's CRC32C.update passes it. Uses the SSE4.2 crc32 instruction when the CPU
/// has it (checked once), else slicing-by-8 tables.
uint32_t synod_crc32c_extend(uint32_t crc, const uint8_t *bytes, size_t count);

/// The table path alone, so tests can check it on machines that have the instruction.
uint32_t synod_crc32c_extend_software(uint32_t crc, const uint8_t *bytes, size_t count);

/// 1 when the hardware instruction is in use, for benchmarks to report.
int synod_crc32c_is_hardware(void);

#endif
