#include "cpng.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// All state that may change while libpng can longjmp lives in one context owned by the outer
// function, never in locals of the function that calls setjmp: after a longjmp such locals are
// indeterminate unless volatile, and this layout makes that rule impossible to break by accident.
typedef struct {
    char *message;
    size_t message_size;
    int failed;              // the first failure's status and message win; later ones are echoes
    cpng_status status;
    cpng_status libpng_status; // what a libpng error means here: CORRUPT when reading, WRITE when writing

    FILE *file;              // source or sink when working on a file
    const uint8_t *data;     // source when reading memory
    size_t size, offset;
    uint8_t *out;            // sink when writing memory
    size_t out_size, out_capacity;

    uint8_t *pixels;         // the decoded image, owned until handed to the caller
    uint32_t width, height;
} context;

static void fail(context *ctx, cpng_status status, const char *format, ...) {
    if (ctx->failed) return;
    ctx->failed = 1;
    ctx->status = status;
    if (ctx->message == NULL || ctx->message_size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(ctx->message, ctx->message_size, format, args);
    va_end(args);
}

static void on_error(png_structp png, png_const_charp text) {
    context *ctx = png_get_error_ptr(png);
    if (ctx->libpng_status == CPNG_ERR_CORRUPT) {
        fail(ctx, CPNG_ERR_CORRUPT, "corrupt PNG: %s", text);
    } else {
        fail(ctx, ctx->libpng_status, "cannot encode PNG: %s", text);
    }
    png_longjmp(png, 1);
}

// libpng's default prints warnings (bad ancillary CRCs, unknown profiles) to stderr, which would
// scribble over the terminal UI; none of them stops decoding, so they are dropped.
static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void context_init(context *ctx, char *message, size_t message_size, cpng_status libpng_status) {
    memset(ctx, 0, sizeof *ctx);
    ctx->message = message;
    ctx->message_size = message_size;
    ctx->libpng_status = libpng_status;
    ctx->status = CPNG_OK;
    if (message != NULL && message_size > 0) message[0] = '\0';
}

// ---- Reading ----

// Our own read callbacks, rather than png_init_io, so that a short read says "truncated" instead of
// libpng's bare "Read Error", and an I/O error says what the system reported.
static void read_from_file(png_structp png, png_bytep buffer, size_t length) {
    context *ctx = png_get_io_ptr(png);
    size_t got = fread(buffer, 1, length, ctx->file);
    if (got == length) return;
    if (ferror(ctx->file)) {
        fail(ctx, CPNG_ERR_OPEN, "cannot read: %s", strerror(errno));
    } else {
        fail(ctx, CPNG_ERR_CORRUPT, "truncated PNG: the data ends early");
    }
    png_error(png, "read failed");
}

static void read_from_memory(png_structp png, png_bytep buffer, size_t length) {
    context *ctx = png_get_io_ptr(png);
    if (length > ctx->size - ctx->offset) {
        fail(ctx, CPNG_ERR_CORRUPT, "truncated PNG: the data ends early");
        png_error(png, "read failed");
    }
    memcpy(buffer, ctx->data + ctx->offset, length);
    ctx->offset += length;
}

// Classifies the first bytes. A file shorter than the signature that matches it as far as it goes
// is a truncated PNG, not a foreign file.
static int check_signature(context *ctx, const uint8_t *bytes, size_t count) {
    static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (count == 0) {
        fail(ctx, CPNG_ERR_NOT_PNG, "not a PNG file (it is empty)");
        return 0;
    }
    if (memcmp(bytes, signature, count < 8 ? count : 8) != 0) {
        fail(ctx, CPNG_ERR_NOT_PNG, "not a PNG file (no PNG signature)");
        return 0;
    }
    if (count < 8) {
        fail(ctx, CPNG_ERR_CORRUPT, "truncated PNG: the data ends inside the signature");
        return 0;
    }
    return 1;
}

// The only function with a jump point. It keeps nothing in locals across libpng calls that it needs
// after a longjmp: on failure it returns at once and the caller cleans up from `ctx`.
static cpng_status decode(png_structp png, png_infop info, context *ctx) {
    if (setjmp(png_jmpbuf(png))) return ctx->status;

    png_set_sig_bytes(png, 8);
    png_read_info(png, info);

    uint32_t width = png_get_image_width(png, info);
    uint32_t height = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);

    uint64_t bytes = (uint64_t)width * (uint64_t)height * 3u;
    if (bytes > CPNG_MAX_PIXEL_BYTES) {
        fail(ctx, CPNG_ERR_TOO_LARGE, "image too large (%ux%u; the limit is %llu bytes of RGB)",
             width, height, (unsigned long long)CPNG_MAX_PIXEL_BYTES);
        return ctx->status;
    }

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (bit_depth == 16) png_set_scale_16(png);
    png_set_strip_alpha(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t row_bytes = (size_t)width * 3u;
    if (png_get_bit_depth(png, info) != 8 || png_get_channels(png, info) != 3 ||
        png_get_rowbytes(png, info) != row_bytes) {
        fail(ctx, CPNG_ERR_UNSUPPORTED, "unsupported PNG layout (colour type %d, bit depth %d)", color_type,
             bit_depth);
        return ctx->status;
    }

    ctx->pixels = malloc(bytes > 0 ? (size_t)bytes : 1u);
    if (ctx->pixels == NULL) {
        fail(ctx, CPNG_ERR_NO_MEMORY, "out of memory for a %ux%u image", width, height);
        return ctx->status;
    }
    // Row by row into the final buffer; for interlaced images each pass combines into the rows the
    // earlier passes filled, so no array of row pointers is needed.
    for (int pass = 0; pass < passes; pass++) {
        for (uint32_t y = 0; y < height; y++) png_read_row(png, ctx->pixels + (size_t)y * row_bytes, NULL);
    }
    // Reading to IEND checks the trailing chunks' CRCs and catches a file cut off after the pixels.
    png_read_end(png, NULL);
    ctx->width = width;
    ctx->height = height;
    return CPNG_OK;
}

static cpng_status read_rgb8(context *ctx, uint8_t **pixels, uint32_t *width, uint32_t *height) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, on_error, on_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    cpng_status status;
    if (info == NULL) {
        fail(ctx, CPNG_ERR_NO_MEMORY, "out of memory starting libpng");
        status = ctx->status;
    } else {
        if (ctx->file != NULL) {
            png_set_read_fn(png, ctx, read_from_file);
        } else {
            png_set_read_fn(png, ctx, read_from_memory);
        }
        status = decode(png, info, ctx);
    }
    png_destroy_read_struct(png != NULL ? &png : NULL, info != NULL ? &info : NULL, NULL);
    if (status != CPNG_OK) {
        free(ctx->pixels);
        return status;
    }
    *pixels = ctx->pixels;
    *width = ctx->width;
    *height = ctx->height;
    return CPNG_OK;
}

cpng_status cpng_read_rgb8_file(const char *path, uint8_t **pixels, uint32_t *width, uint32_t *height,
                                char *message, size_t message_size) {
    context ctx;
    context_init(&ctx, message, message_size, CPNG_ERR_CORRUPT);
    if (pixels == NULL || width == NULL || height == NULL) {
        fail(&ctx, CPNG_ERR_ARGUMENT, "no place for the result");
        return ctx.status;
    }
    *pixels = NULL;
    *width = 0;
    *height = 0;
    if (path == NULL) {
        fail(&ctx, CPNG_ERR_ARGUMENT, "no path");
        return ctx.status;
    }

    ctx.file = fopen(path, "rb");
    if (ctx.file == NULL) {
        fail(&ctx, CPNG_ERR_OPEN, "cannot open: %s", strerror(errno));
        return ctx.status;
    }
    uint8_t head[8];
    size_t got = fread(head, 1, sizeof head, ctx.file);
    cpng_status status;
    if (got < sizeof head && ferror(ctx.file)) {
        fail(&ctx, CPNG_ERR_OPEN, "cannot read: %s", strerror(errno));
        status = ctx.status;
    } else if (!check_signature(&ctx, head, got)) {
        status = ctx.status;
    } else {
        status = read_rgb8(&ctx, pixels, width, height);
    }
    fclose(ctx.file);
    return status;
}

cpng_status cpng_read_rgb8_memory(const uint8_t *data, size_t size, uint8_t **pixels, uint32_t *width,
                                  uint32_t *height, char *message, size_t message_size) {
    context ctx;
    context_init(&ctx, message, message_size, CPNG_ERR_CORRUPT);
    if (pixels == NULL || width == NULL || height == NULL || (data == NULL && size > 0)) {
        fail(&ctx, CPNG_ERR_ARGUMENT, "no data or no place for the result");
        return ctx.status;
    }
    *pixels = NULL;
    *width = 0;
    *height = 0;
    if (!check_signature(&ctx, data, size < 8 ? size : 8)) return ctx.status;
    ctx.data = data;
    ctx.size = size;
    ctx.offset = 8;
    return read_rgb8(&ctx, pixels, width, height);
}

// ---- Writing ----

static void write_to_file(png_structp png, png_bytep buffer, size_t length) {
    context *ctx = png_get_io_ptr(png);
    if (fwrite(buffer, 1, length, ctx->file) != length) {
        fail(ctx, CPNG_ERR_WRITE, "cannot write: %s", strerror(errno));
        png_error(png, "write failed");
    }
}

static void flush_file(png_structp png) {
    context *ctx = png_get_io_ptr(png);
    if (fflush(ctx->file) != 0) {
        fail(ctx, CPNG_ERR_WRITE, "cannot write: %s", strerror(errno));
        png_error(png, "flush failed");
    }
}

static void write_to_memory(png_structp png, png_bytep buffer, size_t length) {
    context *ctx = png_get_io_ptr(png);
    if (length > ctx->out_capacity - ctx->out_size) {
        size_t capacity = ctx->out_capacity > 0 ? ctx->out_capacity : 4096;
        while (length > capacity - ctx->out_size) {
            if (capacity > SIZE_MAX / 2) {
                fail(ctx, CPNG_ERR_NO_MEMORY, "out of memory encoding the PNG");
                png_error(png, "out of memory");
            }
            capacity *= 2;
        }
        uint8_t *grown = realloc(ctx->out, capacity);
        if (grown == NULL) {
            fail(ctx, CPNG_ERR_NO_MEMORY, "out of memory encoding the PNG");
            png_error(png, "out of memory");
        }
        ctx->out = grown;
        ctx->out_capacity = capacity;
    }
    memcpy(ctx->out + ctx->out_size, buffer, length);
    ctx->out_size += length;
}

static void flush_memory(png_structp png) { (void)png; }

static int check_write_arguments(context *ctx, const uint8_t *pixels, uint32_t width, uint32_t height,
                                 int channels) {
    if (pixels == NULL) {
        fail(ctx, CPNG_ERR_ARGUMENT, "no pixels");
    } else if (channels != 1 && channels != 3) {
        fail(ctx, CPNG_ERR_ARGUMENT, "cannot write %d channels (only 1 or 3)", channels);
    } else if (width == 0 || height == 0) {
        fail(ctx, CPNG_ERR_ARGUMENT, "cannot write an empty %ux%u image", width, height);
    }
    return !ctx->failed;
}

static cpng_status encode(png_structp png, png_infop info, context *ctx, const uint8_t *pixels, uint32_t width,
                          uint32_t height, int channels) {
    if (setjmp(png_jmpbuf(png))) return ctx->status;

    int color_type = channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
    png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t row_bytes = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * row_bytes);
    png_write_end(png, NULL);
    return CPNG_OK;
}

static cpng_status write8(context *ctx, const uint8_t *pixels, uint32_t width, uint32_t height, int channels) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_error, on_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    cpng_status status;
    if (info == NULL) {
        fail(ctx, CPNG_ERR_NO_MEMORY, "out of memory starting libpng");
        status = ctx->status;
    } else {
        if (ctx->file != NULL) {
            png_set_write_fn(png, ctx, write_to_file, flush_file);
        } else {
            png_set_write_fn(png, ctx, write_to_memory, flush_memory);
        }
        status = encode(png, info, ctx, pixels, width, height, channels);
    }
    png_destroy_write_struct(png != NULL ? &png : NULL, info != NULL ? &info : NULL);
    return status;
}

cpng_status cpng_write8_file(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                             int channels, char *message, size_t message_size) {
    context ctx;
    context_init(&ctx, message, message_size, CPNG_ERR_WRITE);
    if (path == NULL) {
        fail(&ctx, CPNG_ERR_ARGUMENT, "no path");
        return ctx.status;
    }
    if (!check_write_arguments(&ctx, pixels, width, height, channels)) return ctx.status;

    ctx.file = fopen(path, "wb");
    if (ctx.file == NULL) {
        fail(&ctx, CPNG_ERR_WRITE, "cannot create: %s", strerror(errno));
        return ctx.status;
    }
    cpng_status status = write8(&ctx, pixels, width, height, channels);
    // A full disk often shows only when the last buffer is flushed on close.
    if (fclose(ctx.file) != 0 && status == CPNG_OK) {
        fail(&ctx, CPNG_ERR_WRITE, "cannot write: %s", strerror(errno));
        status = ctx.status;
    }
    return status;
}

cpng_status cpng_write8_memory(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                               uint8_t **png, size_t *png_size, char *message, size_t message_size) {
    context ctx;
    context_init(&ctx, message, message_size, CPNG_ERR_WRITE);
    if (png == NULL || png_size == NULL) {
        fail(&ctx, CPNG_ERR_ARGUMENT, "no place for the result");
        return ctx.status;
    }
    *png = NULL;
    *png_size = 0;
    if (!check_write_arguments(&ctx, pixels, width, height, channels)) return ctx.status;

    cpng_status status = write8(&ctx, pixels, width, height, channels);
    if (status != CPNG_OK) {
        free(ctx.out);
        return status;
    }
    *png = ctx.out;
    *png_size = ctx.out_size;
    return CPNG_OK;
}

void cpng_free(void *buffer) { free(buffer); }
