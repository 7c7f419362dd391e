#ifndef CPNG_H
#define CPNG_H

// A small C layer over libpng that Swift can call safely.
//
// libpng reports errors by longjmp, which must never unwind through Swift frames. Every function
// here sets its own jump point, so the only way out is a return: a status code, and on failure a
// one-line, NUL-terminated problem description in the caller's `message` buffer (without the file
// name; the caller adds that). Nothing is printed to stderr, warnings included.
//
// Decoding always yields 8-bit RGB, row-major, 3 bytes per pixel, no row padding:
//   - palette images are expanded through the palette;
//   - grayscale (any bit depth) is replicated into R = G = B;
//   - alpha (an alpha channel or a tRNS chunk) is DROPPED, not composited: the colour samples are
//     kept as stored. This is what Pillow's Image.convert("RGB") does, which is how StyleGAN2's
//     projector loads its target images;
//   - 16-bit samples are scaled to 8 bits with rounding, round(v * 255 / 65535)
//     (png_set_scale_16), not truncated to the high byte;
//   - interlaced (Adam7) images are de-interlaced;
//   - no gamma or colour-space correction is applied (gAMA, cHRM, iCCP, sRGB are ignored).

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cpng_status {
    CPNG_OK = 0,
    CPNG_ERR_OPEN = 1,        // the file could not be opened or read; message holds strerror
    CPNG_ERR_NOT_PNG = 2,     // the first 8 bytes are not the PNG signature
    CPNG_ERR_CORRUPT = 3,     // libpng rejected the data, or it ends early (message says which)
    CPNG_ERR_TOO_LARGE = 4,   // width * height * 3 exceeds CPNG_MAX_PIXEL_BYTES
    CPNG_ERR_NO_MEMORY = 5,
    CPNG_ERR_WRITE = 6,       // creating, writing or closing the output failed
    CPNG_ERR_ARGUMENT = 7,    // a size of zero, channels other than 1 or 3, a NULL pointer
    CPNG_ERR_UNSUPPORTED = 8, // a layout the transforms could not turn into 8-bit RGB
} cpng_status;

// Decoded images larger than this many bytes (width * height * 3) are refused before allocating:
// a corrupt or hostile header must not make us ask for gigabytes.
#define CPNG_MAX_PIXEL_BYTES ((uint64_t)1 << 31)

// Reads the PNG at `path` into a new malloc'ed buffer of width * height * 3 bytes (release it with
// cpng_free). On failure *pixels is NULL and *width, *height are 0.
cpng_status cpng_read_rgb8_file(const char *path, uint8_t **pixels, uint32_t *width, uint32_t *height,
                                char *message, size_t message_size);

// As cpng_read_rgb8_file, from `size` bytes in memory.
cpng_status cpng_read_rgb8_memory(const uint8_t *data, size_t size, uint8_t **pixels, uint32_t *width,
                                  uint32_t *height, char *message, size_t message_size);

// Writes width * height * channels bytes (channels 1: grayscale, 3: RGB; 8 bits a sample, rows
// packed) as a non-interlaced PNG with libpng's default compression. The file is created or
// truncated in place; on failure it may be left partly written, and removing it is the caller's job
// (write to a temporary name and rename for atomicity).
cpng_status cpng_write8_file(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                             int channels, char *message, size_t message_size);

// As cpng_write8_file, into a new malloc'ed buffer (*png, *png_size; release it with cpng_free).
cpng_status cpng_write8_memory(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                               uint8_t **png, size_t *png_size, char *message, size_t message_size);

// Releases a buffer returned by the functions above. NULL is allowed.
void cpng_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif
