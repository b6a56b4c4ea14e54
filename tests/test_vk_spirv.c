/* SPIR-V reflection (vkdp/vk/spirv.h): every built-in shader against its known layout, test
 * shaders with every binding kind, a fixed size, an unused binding and a matrix in the push block,
 * hand-assembled modules (LocalSizeId; one malformed module per error path), and random
 * corruptions of every shader, which must be refused or read without a fault (ASan). No device. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_shaders.h"
#include "vkdp/vk/vk.h"

/* What the built-in shaders declare: binding count, push bytes, written bindings, and each
 * binding's kind (NULL: all storage buffers; else one letter per binding: S storage buffer,
 * U uniform texel buffer, T storage texel buffer). */
static const struct {
    const char *name;
    uint32_t nbindings, push, writes;
    const char *kinds;
} expect[] = {
    {"adam", 4, 24, 0xE, NULL},           {"conv2d_1x1", 6, 24, 0x8, NULL},
    {"dwconv", 5, 28, 0x18, NULL},        {"eltwise", 3, 4, 0x4, NULL},
    {"head_bn_dropout", 6, 32, 0x30, NULL}, {"head_bn_stats", 4, 16, 0xC, NULL},
    {"head_grad_sums", 9, 48, 0x180, NULL}, {"head_logits_loss", 7, 20, 0x78, NULL},
    {"se_excite", 4, 8, 0x8, NULL},       {"se_gate", 2, 8, 0x1, NULL},
    {"se_squeeze", 2, 12, 0x2, NULL},     {"stem_conv3x3_s2", 4, 48, 0x8, NULL},
    {"swish_grad", 3, 4, 0x4, NULL},
    {"conv2d_1x1_texel", 6, 24, 0x8, "UUUSUU"}, {"dwconv_texel", 5, 28, 0x18, "UUUTT"},
    {"se_gate_texel", 2, 8, 0x1, "TU"},        {"stem_conv3x3_s2_texel", 4, 48, 0x8, "UUUT"},
    /* the GPU row's shared-memory GEMM (issue 10): conv2d_1x1's bindings and push block */
    {"conv2d_1x1_smem", 6, 24, 0x8, NULL},
    /* fine-tuning's backward and unfused forward ops, the augmentation (issue 12) */
    {"augment_contrast", 3, 16, 0x1, NULL}, {"augment_mean", 2, 16, 0x2, NULL},
    {"augment_warp", 3, 16, 0x4, NULL},    {"bn_frozen", 4, 8, 0x8, NULL},
    {"bn_frozen_grad", 3, 8, 0x4, NULL},   {"conv1x1_grad_dx", 3, 12, 0x4, NULL},
    {"conv1x1_grad_w", 4, 12, 0xC, NULL},  {"dwconv_grad_dx", 3, 40, 0x4, NULL},
    {"conv1x1_grad_dx_texel", 3, 20, 0x4, "UUS"}, {"conv1x1_grad_w_texel", 4, 32, 0xC, "UUSS"},
    {"dwconv_grad_w", 4, 40, 0xC, NULL},   {"dwconv_lin", 4, 40, 0x8, NULL},
    {"dwconv_grad_dx_texel", 3, 44, 0x4, "UUS"}, {"dwconv_grad_w_texel", 4, 48, 0xC, "UUSS"},
    {"gap_grad", 2, 12, 0x2, NULL},        {"grad_fx_add", 3, 12, 0x6, NULL},        {"residual", 4, 8, 0x8, NULL},
    {"residual_grad", 3, 8, 0x4, NULL},    {"se_excite_grad_dh", 4, 12, 0x8, NULL},
    {"se_excite_grad_h", 4, 12, 0x8, NULL}, {"se_excite_grad_w", 10, 12, 0x3E0, NULL},
    {"se_excite_grad_z", 5, 12, 0x10, NULL}, {"se_gate_grad", 5, 12, 0x18, NULL},
};

static vkdp_bind_kind kind_of(char c)
{
    return c == 'U' ? VKDP_BIND_UNIFORM_TEXEL : c == 'T' ? VKDP_BIND_STORAGE_TEXEL
                                                         : VKDP_BIND_STORAGE_BUFFER;
}

static uint32_t writes_of(const vkdp_spirv_info *in)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < in->nbindings; i++)
        m |= in->binding[i].writable ? 1u << i : 0;
    return m;
}

static void builtin_shaders(void)
{
    size_t seen = 0;
    for (const vkdp_spirv *s = vkdp_shader_list(); s->name; s++) {
        vkdp_spirv_info in;
        char err[256];
        int r = vkdp_spirv_reflect(s->code, s->size, &in, err, sizeof err);
        CHECK(r == 0, "%s: %s", s->name, err);
        if (r)
            continue;
        size_t k = 0;
        while (k < VKDP_ARRAY_LEN(expect) && strcmp(expect[k].name, s->name))
            k++;
        CHECK(k < VKDP_ARRAY_LEN(expect), "built-in shader %s has no expected layout here",
              s->name);
        if (k == VKDP_ARRAY_LEN(expect))
            continue;
        seen++;
        CHECK(in.nbindings == expect[k].nbindings && in.push_bytes == expect[k].push &&
                  writes_of(&in) == expect[k].writes,
              "%s: %u bindings, push %u, writes 0x%x (expected %u, %u, 0x%x)", s->name,
              in.nbindings, in.push_bytes, writes_of(&in), expect[k].nbindings, expect[k].push,
              expect[k].writes);
        for (uint32_t b = 0; b < in.nbindings; b++)
            CHECK(in.binding[b].kind == kind_of(expect[k].kinds ? expect[k].kinds[b] : 'S'),
                  "%s: binding %u is a %s", s->name, b, vkdp_bind_kind_name(in.binding[b].kind));
        CHECK(in.local_size[0] == 64 && in.local_size[1] == 1 && in.local_size[2] == 1 &&
                  in.local_size_spec[0] == 100 && in.local_size_spec[1] == -1,
              "%s: workgroup %u x %u x %u, spec id %d", s->name, in.local_size[0],
              in.local_size[1], in.local_size[2], in.local_size_spec[0]);
    }
    CHECK(seen == VKDP_ARRAY_LEN(expect), "%zu of %zu expected shaders built in", seen,
          VKDP_ARRAY_LEN(expect));
    printf("built-in shaders: %zu reflected\n", seen);
}

static void test_shaders(void)
{
    vkdp_spirv_info in;
    char err[256];
    const vkdp_spirv *t = test_shader_find("texel_ops");
    CHECK(t && vkdp_spirv_reflect(t->code, t->size, &in, err, sizeof err) == 0, "texel_ops: %s",
          err);
    static const vkdp_bind_kind kinds[] = {VKDP_BIND_UNIFORM_TEXEL, VKDP_BIND_STORAGE_TEXEL,
                                           VKDP_BIND_UNIFORM_BUFFER, VKDP_BIND_STORAGE_TEXEL,
                                           VKDP_BIND_STORAGE_BUFFER};
    CHECK(in.nbindings == 5, "texel_ops: %u bindings", in.nbindings);
    for (uint32_t b = 0; b < 5 && b < in.nbindings; b++)
        CHECK(in.binding[b].kind == kinds[b], "texel_ops binding %u: %s, expected %s", b,
              vkdp_bind_kind_name(in.binding[b].kind), vkdp_bind_kind_name(kinds[b]));
    CHECK(writes_of(&in) == 0x18, "texel_ops writes 0x%x, expected 0x18", writes_of(&in));
    CHECK(in.binding[1].format == VK_FORMAT_R32_SFLOAT &&
              in.binding[3].format == VK_FORMAT_R32G32B32A32_SFLOAT &&
              in.binding[0].format == VK_FORMAT_UNDEFINED,
          "texel_ops formats %d %d %d", in.binding[0].format, in.binding[1].format,
          in.binding[3].format);
    /* uint n @0, float f[3] @4 (stride 4), vec3 v @16 */
    CHECK(in.push_bytes == 28, "texel_ops push %u, expected 28", in.push_bytes);
    CHECK(in.local_size[0] == 32 && in.local_size_spec[0] == 7, "texel_ops local %u spec %d",
          in.local_size[0], in.local_size_spec[0]);

    t = test_shader_find("fixed_size");
    CHECK(t && vkdp_spirv_reflect(t->code, t->size, &in, err, sizeof err) == 0, "fixed_size: %s",
          err);
    CHECK(in.local_size[0] == 8 && in.local_size[1] == 4 && in.local_size[2] == 2 &&
              in.local_size_spec[0] == -1 && in.local_size_spec[2] == -1,
          "fixed_size: %u x %u x %u", in.local_size[0], in.local_size[1], in.local_size[2]);
    CHECK(in.nbindings == 3 && in.binding[1].kind == VKDP_BIND_NONE &&
              in.binding[0].kind == VKDP_BIND_STORAGE_BUFFER && !in.binding[0].writable &&
              in.binding[2].writable,
          "fixed_size bindings: %u, hole %s", in.nbindings, vkdp_bind_kind_name(in.binding[1].kind));
    /* mat3: 3 columns of MatrixStride 16, then uint n @48 */
    CHECK(in.push_bytes == 52, "fixed_size push %u, expected 52", in.push_bytes);
    printf("test shaders: reflected\n");
}

/* ---- hand-assembled modules ---- */

typedef struct {
    uint32_t w[128];
    size_t n;
} mod;

static void emit(mod *m, uint32_t opcode, int nargs, ...)
{
    va_list ap;
    va_start(ap, nargs);
    m->w[m->n++] = ((uint32_t)(nargs + 1) << 16) | opcode;
    for (int i = 0; i < nargs; i++)
        m->w[m->n++] = va_arg(ap, uint32_t);
    va_end(ap);
}

/* A compute module: entry %1 "main", %2 uint, %10 = spec constant 64 (SpecId 5), %11 = 1,
 * LocalSizeId %10 %11 %11. Ids up to 40. */
static void base(mod *m)
{
    m->n = 0;
    uint32_t head[5] = {0x07230203u, 0x00010300u, 0, 40, 0};
    memcpy(m->w, head, sizeof head);
    m->n = 5;
    emit(m, 17, 1, 1u);                                   /* OpCapability Shader */
    emit(m, 14, 2, 0u, 1u);                               /* OpMemoryModel Logical GLSL450 */
    emit(m, 15, 4, 5u, 1u, 0x6e69616du, 0u);              /* OpEntryPoint GLCompute %1 "main" */
    emit(m, 331, 5, 1u, 38u, 10u, 11u, 11u);              /* OpExecutionModeId LocalSizeId */
    emit(m, 71, 3, 10u, 1u, 5u);                          /* OpDecorate %10 SpecId 5 */
    emit(m, 21, 3, 2u, 32u, 0u);                          /* %2 = OpTypeInt 32 0 */
    emit(m, 50, 3, 2u, 10u, 64u);                         /* %10 = OpSpecConstant %2 64 */
    emit(m, 43, 3, 2u, 11u, 1u);                          /* %11 = OpConstant %2 1 */
}

/* + a storage buffer %7 (struct %5 { float[] }) at binding 0 of `set` */
static void add_buffer(mod *m, uint32_t set)
{
    emit(m, 22, 2, 3u, 32u);             /* %3 = OpTypeFloat 32 */
    emit(m, 29, 2, 4u, 3u);              /* %4 = OpTypeRuntimeArray %3 */
    emit(m, 30, 2, 5u, 4u);              /* %5 = OpTypeStruct %4 */
    emit(m, 71, 2, 5u, 2u);              /* OpDecorate %5 Block */
    emit(m, 72, 4, 5u, 0u, 35u, 0u);     /* OpMemberDecorate %5 0 Offset 0 */
    emit(m, 32, 3, 6u, 12u, 5u);         /* %6 = OpTypePointer StorageBuffer %5 */
    emit(m, 59, 3, 6u, 7u, 12u);         /* %7 = OpVariable %6 StorageBuffer */
    emit(m, 71, 3, 7u, 34u, set);        /* DescriptorSet */
    emit(m, 71, 3, 7u, 33u, 0u);         /* Binding 0 */
}

static int reflect_mod(const mod *m, vkdp_spirv_info *in, char *err)
{
    return vkdp_spirv_reflect(m->w, m->n * 4, in, err, 256);
}

static void expect_error(const char *what, const uint32_t *w, size_t bytes, const char *needle)
{
    vkdp_spirv_info in;
    char err[256];
    int r = vkdp_spirv_reflect(w, bytes, &in, err, sizeof err);
    CHECK(r == -1 && strstr(err, needle), "%s: r=%d err '%s' (expected '%s')", what, r, err,
          needle);
    if (r == -1)
        printf("ok   refused %-28s %s\n", what, err);
}

static void assembled(void)
{
    mod m;
    vkdp_spirv_info in;
    char err[256];
    base(&m);
    add_buffer(&m, 0);
    CHECK(reflect_mod(&m, &in, err) == 0, "LocalSizeId module: %s", err);
    CHECK(in.local_size[0] == 64 && in.local_size_spec[0] == 5 && in.local_size[1] == 1 &&
              in.local_size_spec[1] == -1 && in.nbindings == 1 && in.binding[0].writable,
          "LocalSizeId module: %u (spec %d) x %u, %u bindings", in.local_size[0],
          in.local_size_spec[0], in.local_size[1], in.nbindings);

    expect_error("empty", NULL, 0, "not a SPIR-V module");
    expect_error("short", m.w, 16, "not a SPIR-V module");
    expect_error("odd size", m.w, m.n * 4 - 2, "not a SPIR-V module");
    mod bad = m;
    bad.w[0] = 0x03022307u;
    expect_error("byte-swapped", bad.w, bad.n * 4, "magic");
    bad = m, bad.w[3] = 0;
    expect_error("bound 0", bad.w, bad.n * 4, "bound");
    bad = m, bad.w[3] = 0x7fffffffu;
    expect_error("huge bound", bad.w, bad.n * 4, "bound");
    bad = m, bad.w[5] = 0;
    expect_error("zero word count", bad.w, bad.n * 4, "word count");
    bad = m, bad.w[5] = 0xffff0011u;
    expect_error("word count past end", bad.w, bad.n * 4, "word count");
    bad = m, bad.w[3] = 8;
    expect_error("id beyond the bound", bad.w, bad.n * 4, "outside");
    bad = m;
    emit(&bad, 43, 3, 2u, 11u, 1u);
    expect_error("id defined twice", bad.w, bad.n * 4, "defined twice");
    base(&bad);
    add_buffer(&bad, 1);
    expect_error("descriptor set 1", bad.w, bad.n * 4, "set 1");
    bad = m;
    bad.n = 5; /* header only */
    expect_error("no entry point", bad.w, bad.n * 4, "entry point");
    base(&bad);
    emit(&bad, 30, 2, 20u, 20u);          /* %20 = struct { %20 } */
    emit(&bad, 72, 4, 20u, 0u, 35u, 0u);
    emit(&bad, 32, 3, 21u, 9u, 20u);      /* push-constant pointer */
    emit(&bad, 59, 3, 21u, 22u, 9u);
    expect_error("cyclic push type", bad.w, bad.n * 4, "nest");
    base(&bad);
    emit(&bad, 22, 2, 3u, 32u);
    emit(&bad, 29, 2, 4u, 3u);
    emit(&bad, 30, 2, 20u, 4u);           /* push block with a runtime array */
    emit(&bad, 72, 4, 20u, 0u, 35u, 0u);
    emit(&bad, 32, 3, 21u, 9u, 20u);
    emit(&bad, 59, 3, 21u, 22u, 9u);
    expect_error("runtime array in push", bad.w, bad.n * 4, "no size");
    base(&bad);
    emit(&bad, 22, 2, 3u, 32u);
    emit(&bad, 25, 8, 23u, 3u, 1u, 0u, 0u, 0u, 1u, 0u); /* image 2D, sampled */
    emit(&bad, 27, 2, 24u, 23u);                          /* sampler2D */
    emit(&bad, 32, 3, 25u, 0u, 24u);
    emit(&bad, 59, 3, 25u, 26u, 0u);
    emit(&bad, 71, 3, 26u, 33u, 0u);
    expect_error("sampler2D", bad.w, bad.n * 4, "samplerBuffer");
    base(&bad);
    add_buffer(&bad, 0);
    emit(&bad, 43, 3, 2u, 12u, 4u);       /* %12 = 4 */
    emit(&bad, 28, 3, 13u, 5u, 12u);      /* %13 = array of 4 blocks */
    emit(&bad, 32, 3, 14u, 12u, 13u);
    emit(&bad, 59, 3, 14u, 15u, 12u);
    emit(&bad, 71, 3, 15u, 33u, 1u);
    expect_error("array of descriptors", bad.w, bad.n * 4, "array of descriptors");
    base(&bad);
    bad.w[bad.n - 15] = 0;                /* OpDecorate %10 SpecId 5 -> of id 0 */
    expect_error("decoration of id 0", bad.w, bad.n * 4, "outside the bound");
}

/* Random corruption of every built-in shader: reflect must return 0 or -1, never fault. */
static void corruptions(void)
{
    test_rng r = {99};
    int refused = 0, read = 0;
    for (const vkdp_spirv *s = vkdp_shader_list(); s->name; s++) {
        size_t n = s->size / 4;
        uint32_t *w = vkdp_xmalloc(s->size);
        for (int trial = 0; trial < 300; trial++) {
            memcpy(w, s->code, s->size);
            int flips = 1 + (int)(test_rng_u64(&r) % 4);
            for (int f = 0; f < flips; f++) {
                size_t at = 5 + test_rng_u64(&r) % (n - 5);
                uint64_t how = test_rng_u64(&r);
                if (how % 3 == 0)
                    w[at] ^= 1u << (how >> 8) % 32;   /* a bit */
                else if (how % 3 == 1)
                    w[at] = (uint32_t)(how >> 16);    /* a word */
                else
                    w[at] = (w[at] & 0xffffu) | (uint32_t)((how >> 20) & 0xffff) << 16; /* a length */
            }
            size_t bytes = trial % 10 == 9 ? (5 + test_rng_u64(&r) % (n - 5)) * 4 : s->size;
            vkdp_spirv_info in;
            char err[256];
            int res = vkdp_spirv_reflect(w, bytes, &in, err, sizeof err);
            CHECK(res == 0 || (res == -1 && err[0]), "%s trial %d: result %d", s->name, trial,
                  res);
            refused += res != 0;
            read += res == 0;
        }
        free(w);
    }
    printf("corrupted modules: %d refused with a reason, %d still readable, no fault\n", refused,
           read);
}

int main(void)
{
    builtin_shaders();
    test_shaders();
    assembled();
    corruptions();
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
