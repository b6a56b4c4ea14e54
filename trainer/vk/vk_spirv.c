/* SPIR-V reflection (see include/vkdp/vk/spirv.h): one pass over the module records every id's
 * defining instruction and decorations, then the resource variables, the push-constant block and
 * the workgroup size are resolved from them. Every word read is bounds-checked: the module is
 * treated as untrusted input. */
#include "vkdp/vk/spirv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPV_MAGIC 0x07230203u
#define MAX_BOUND (1u << 22)   /* ids; far above any compute shader, bounds the tables */
#define MAX_TYPE_DEPTH 16      /* nesting of push-constant types (stops cyclic definitions) */

enum {
    OP_ENTRY_POINT = 15, OP_EXECUTION_MODE = 16, OP_TYPE_VOID = 19, OP_TYPE_BOOL = 20,
    OP_TYPE_INT = 21, OP_TYPE_FLOAT = 22, OP_TYPE_VECTOR = 23, OP_TYPE_MATRIX = 24,
    OP_TYPE_IMAGE = 25, OP_TYPE_SAMPLED_IMAGE = 27, OP_TYPE_ARRAY = 28,
    OP_TYPE_RUNTIME_ARRAY = 29, OP_TYPE_STRUCT = 30, OP_TYPE_POINTER = 32,
    OP_TYPE_LAST = 39, OP_CONSTANT_TRUE = 41, OP_CONSTANT = 43, OP_CONSTANT_COMPOSITE = 44,
    OP_SPEC_CONSTANT_TRUE = 48, OP_SPEC_CONSTANT = 50, OP_SPEC_CONSTANT_COMPOSITE = 51,
    OP_VARIABLE = 59, OP_DECORATE = 71, OP_MEMBER_DECORATE = 72, OP_EXECUTION_MODE_ID = 331,
};
enum {
    DEC_SPEC_ID = 1, DEC_BLOCK = 2, DEC_BUFFER_BLOCK = 3, DEC_ARRAY_STRIDE = 6,
    DEC_MATRIX_STRIDE = 7, DEC_BUILTIN = 11, DEC_NON_WRITABLE = 24, DEC_BINDING = 33,
    DEC_DESCRIPTOR_SET = 34, DEC_OFFSET = 35,
};
enum { SC_UNIFORM_CONSTANT = 0, SC_UNIFORM = 2, SC_PUSH_CONSTANT = 9, SC_STORAGE_BUFFER = 12 };
enum { MODEL_GLCOMPUTE = 5, MODE_LOCAL_SIZE = 17, MODE_LOCAL_SIZE_ID = 38 };
enum { BUILTIN_WORKGROUP_SIZE = 25, DIM_BUFFER = 5 };

typedef struct {
    uint32_t def; /* word index of the defining instruction, 0: undefined */
    uint32_t binding, set, spec_id, builtin, array_stride;
    uint8_t has_binding, has_set, has_spec, has_builtin, block, buffer_block, non_writable;
} id_info;

typedef struct {
    uint32_t type, member, decoration, value;
} member_dec;

typedef struct {
    const uint32_t *w;
    size_t nw;
    uint32_t bound;
    id_info *ids;
    member_dec *md;
    size_t nmd, capmd;
    uint32_t entry;           /* the GLCompute entry point "main" (or the only one) */
    uint32_t mode_size[3];    /* LocalSize literals or LocalSizeId ids */
    int mode;                 /* 0 none, MODE_LOCAL_SIZE or MODE_LOCAL_SIZE_ID */
    char *err;
    size_t errlen;
} spv;

static int fail(spv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(spv *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

const char *vkdp_bind_kind_name(vkdp_bind_kind k)
{
    switch (k) {
    case VKDP_BIND_STORAGE_BUFFER: return "storage buffer";
    case VKDP_BIND_UNIFORM_BUFFER: return "uniform buffer";
    case VKDP_BIND_UNIFORM_TEXEL: return "uniform texel buffer";
    case VKDP_BIND_STORAGE_TEXEL: return "storage texel buffer";
    default: return "none";
    }
}

/* The defining instruction of id, its word count in *wc; NULL when id is not defined. */
static const uint32_t *def_of(const spv *s, uint32_t id, uint32_t *wc)
{
    if (id == 0 || id >= s->bound || !s->ids[id].def)
        return NULL;
    const uint32_t *in = s->w + s->ids[id].def;
    *wc = in[0] >> 16;
    return in;
}

static uint32_t opcode_of(const spv *s, uint32_t id, const uint32_t **in, uint32_t *wc)
{
    *in = def_of(s, id, wc);
    return *in ? ((*in)[0] & 0xffff) : 0;
}

static int define(spv *s, uint32_t id, size_t at)
{
    if (id == 0 || id >= s->bound)
        return fail(s, "instruction at word %zu defines id %u outside the module's bound %u", at,
                    id, s->bound);
    if (s->ids[id].def)
        return fail(s, "id %u is defined twice (words %u and %zu)", id, s->ids[id].def, at);
    s->ids[id].def = (uint32_t)at;
    return 0;
}

static int decorate(spv *s, const uint32_t *in, uint32_t wc)
{
    if (wc < 3)
        return fail(s, "OpDecorate with %u words", wc);
    uint32_t id = in[1], dec = in[2], val = wc > 3 ? in[3] : 0;
    if (id == 0 || id >= s->bound)
        return fail(s, "OpDecorate of id %u outside the bound %u", id, s->bound);
    id_info *t = &s->ids[id];
    int needs_value = dec == DEC_SPEC_ID || dec == DEC_ARRAY_STRIDE || dec == DEC_BUILTIN ||
                      dec == DEC_BINDING || dec == DEC_DESCRIPTOR_SET;
    if (needs_value && wc < 4)
        return fail(s, "OpDecorate %u of id %u has no value", dec, id);
    switch (dec) {
    case DEC_SPEC_ID: t->spec_id = val, t->has_spec = 1; break;
    case DEC_BLOCK: t->block = 1; break;
    case DEC_BUFFER_BLOCK: t->buffer_block = 1; break;
    case DEC_ARRAY_STRIDE: t->array_stride = val; break;
    case DEC_BUILTIN: t->builtin = val, t->has_builtin = 1; break;
    case DEC_NON_WRITABLE: t->non_writable = 1; break;
    case DEC_BINDING: t->binding = val, t->has_binding = 1; break;
    case DEC_DESCRIPTOR_SET: t->set = val, t->has_set = 1; break;
    default: break;
    }
    return 0;
}

static int member_decorate(spv *s, const uint32_t *in, uint32_t wc)
{
    if (wc < 4)
        return fail(s, "OpMemberDecorate with %u words", wc);
    uint32_t dec = in[3];
    if (dec != DEC_OFFSET && dec != DEC_MATRIX_STRIDE && dec != DEC_NON_WRITABLE)
        return 0;
    if (dec != DEC_NON_WRITABLE && wc < 5)
        return fail(s, "OpMemberDecorate %u of id %u member %u has no value", dec, in[1], in[2]);
    if (s->nmd == s->capmd) {
        s->capmd = s->capmd ? 2 * s->capmd : 64;
        member_dec *m = realloc(s->md, s->capmd * sizeof *m);
        if (!m)
            return fail(s, "out of memory for %zu member decorations", s->capmd);
        s->md = m;
    }
    s->md[s->nmd++] = (member_dec){in[1], in[2], dec, wc > 4 ? in[4] : 0};
    return 0;
}

/* Value of a member decoration; 0 when absent (*found tells). */
static uint32_t member_value(const spv *s, uint32_t type, uint32_t member, uint32_t dec,
                             int *found)
{
    *found = 0;
    for (size_t i = 0; i < s->nmd; i++)
        if (s->md[i].type == type && s->md[i].member == member && s->md[i].decoration == dec) {
            *found = 1;
            return s->md[i].value;
        }
    return 0;
}

/* OpEntryPoint GLCompute: keeps "main", or the first one when none is called main. */
static int entry_point(spv *s, const uint32_t *in, uint32_t wc, size_t at)
{
    if (wc < 4)
        return fail(s, "OpEntryPoint at word %zu with %u words", at, wc);
    if (in[1] != MODEL_GLCOMPUTE)
        return 0;
    const char *name = (const char *)(in + 3);
    size_t maxlen = (size_t)(wc - 3) * 4;
    if (!memchr(name, 0, maxlen))
        return fail(s, "OpEntryPoint at word %zu: name not terminated", at);
    if (!s->entry || !strcmp(name, "main"))
        s->entry = in[2];
    return 0;
}

static int execution_mode(spv *s, const uint32_t *in, uint32_t wc, size_t at)
{
    if (wc < 3)
        return fail(s, "OpExecutionMode at word %zu with %u words", at, wc);
    uint32_t mode = in[2];
    if (mode != MODE_LOCAL_SIZE && mode != MODE_LOCAL_SIZE_ID)
        return 0;
    if (wc < 6)
        return fail(s, "LocalSize at word %zu has %u operands, not 3", at, wc - 3);
    if (in[1] != s->entry && s->entry)
        return 0;
    s->mode = (int)mode;
    for (int d = 0; d < 3; d++)
        s->mode_size[d] = in[3 + d];
    return 0;
}

static int scan(spv *s)
{
    for (size_t i = 5; i < s->nw;) {
        const uint32_t *in = s->w + i;
        uint32_t wc = in[0] >> 16, op = in[0] & 0xffff;
        if (wc == 0 || wc > s->nw - i)
            return fail(s, "instruction at word %zu: word count %u (%zu words left)", i, wc,
                        s->nw - i);
        int r = 0;
        if (op >= OP_TYPE_VOID && op <= OP_TYPE_LAST) {
            r = wc < 2 ? fail(s, "type instruction at word %zu has no result id", i)
                       : define(s, in[1], i);
        } else if ((op >= OP_CONSTANT_TRUE && op <= OP_CONSTANT_COMPOSITE) ||
                   (op >= OP_SPEC_CONSTANT_TRUE && op <= OP_SPEC_CONSTANT_COMPOSITE) ||
                   op == OP_VARIABLE) {
            r = wc < 3 ? fail(s, "instruction %u at word %zu has no result id", op, i)
                       : define(s, in[2], i);
        } else if (op == OP_DECORATE) {
            r = decorate(s, in, wc);
        } else if (op == OP_MEMBER_DECORATE) {
            r = member_decorate(s, in, wc);
        } else if (op == OP_ENTRY_POINT) {
            r = entry_point(s, in, wc, i);
        } else if (op == OP_EXECUTION_MODE || op == OP_EXECUTION_MODE_ID) {
            r = execution_mode(s, in, wc, i);
        }
        if (r)
            return r;
        i += wc;
    }
    return 0;
}

/* A 32-bit integer constant or specialization constant: its (default) value and spec id. */
static int const_u32(spv *s, uint32_t id, uint32_t *val, int32_t *spec, const char *what)
{
    const uint32_t *in;
    uint32_t wc, op = opcode_of(s, id, &in, &wc);
    if ((op != OP_CONSTANT && op != OP_SPEC_CONSTANT) || wc != 4)
        return fail(s, "%s: id %u is not a 32-bit integer constant", what, id);
    *val = in[3];
    *spec = op == OP_SPEC_CONSTANT && s->ids[id].has_spec ? (int32_t)s->ids[id].spec_id : -1;
    if (op == OP_SPEC_CONSTANT && !s->ids[id].has_spec)
        return fail(s, "%s: specialization constant %u has no SpecId", what, id);
    return 0;
}

/* Bytes a push-constant member of this type spans (offsets and strides as decorated). */
static int type_size(spv *s, uint32_t type, uint32_t matrix_stride, int depth, uint32_t *size)
{
    if (depth > MAX_TYPE_DEPTH)
        return fail(s, "push-constant types nest deeper than %d (cyclic?)", MAX_TYPE_DEPTH);
    const uint32_t *in;
    uint32_t wc, op = opcode_of(s, type, &in, &wc), sub;
    switch (op) {
    case OP_TYPE_INT:
    case OP_TYPE_FLOAT:
        if (wc < 3 || (in[2] != 8 && in[2] != 16 && in[2] != 32 && in[2] != 64))
            return fail(s, "scalar type %u: bad width", type);
        *size = in[2] / 8;
        return 0;
    case OP_TYPE_VECTOR:
    case OP_TYPE_MATRIX:
        if (wc < 4 || in[3] < 2 || in[3] > 4)
            return fail(s, "vector or matrix type %u is malformed", type);
        if (type_size(s, in[2], 0, depth + 1, &sub))
            return -1;
        *size = (op == OP_TYPE_MATRIX && matrix_stride ? matrix_stride : sub) * in[3];
        return 0;
    case OP_TYPE_ARRAY: {
        uint32_t len, stride = s->ids[type].array_stride;
        int32_t spec;
        if (wc < 4)
            return fail(s, "array type %u is malformed", type);
        if (const_u32(s, in[3], &len, &spec, "array length"))
            return -1;
        if (spec >= 0)
            return fail(s, "array type %u in the push-constant block has a specialization "
                           "constant length (spec id %d)", type, spec);
        if (type_size(s, in[2], matrix_stride, depth + 1, &sub))
            return -1;
        uint64_t total = (uint64_t)(stride ? stride : sub) * len;
        if (total > UINT32_MAX)
            return fail(s, "array type %u spans %llu bytes", type, (unsigned long long)total);
        *size = (uint32_t)total;
        return 0;
    }
    case OP_TYPE_STRUCT: {
        uint64_t end = 0;
        for (uint32_t m = 0; m + 2 < wc; m++) {
            int found;
            uint32_t off = member_value(s, type, m, DEC_OFFSET, &found);
            if (!found)
                return fail(s, "struct %u member %u has no Offset decoration", type, m);
            uint32_t ms = member_value(s, type, m, DEC_MATRIX_STRIDE, &found);
            if (type_size(s, in[2 + m], ms, depth + 1, &sub))
                return -1;
            if ((uint64_t)off + sub > end)
                end = (uint64_t)off + sub;
        }
        if (end > UINT32_MAX)
            return fail(s, "struct %u spans %llu bytes", type, (unsigned long long)end);
        *size = (uint32_t)end;
        return 0;
    }
    case 0:
        return fail(s, "push-constant member type %u is not defined", type);
    default:
        return fail(s, "type %u (opcode %u) has no size in a push-constant block", type, op);
    }
}

static VkFormat image_format(uint32_t f)
{
    switch (f) {
    case 1: return VK_FORMAT_R32G32B32A32_SFLOAT;   /* Rgba32f */
    case 2: return VK_FORMAT_R16G16B16A16_SFLOAT;   /* Rgba16f */
    case 3: return VK_FORMAT_R32_SFLOAT;            /* R32f */
    case 21: return VK_FORMAT_R32G32B32A32_SINT;    /* Rgba32i */
    case 24: return VK_FORMAT_R32_SINT;             /* R32i */
    case 30: return VK_FORMAT_R32G32B32A32_UINT;    /* Rgba32ui */
    case 33: return VK_FORMAT_R32_UINT;             /* R32ui */
    default: return VK_FORMAT_UNDEFINED;
    }
}

/* Kind, writability and format of the resource variable var, whose pointee type is t. */
static int resource(spv *s, uint32_t var, uint32_t sc, uint32_t t, vkdp_spirv_binding *b)
{
    const uint32_t *in;
    uint32_t wc, op = opcode_of(s, t, &in, &wc);
    uint32_t bnum = s->ids[var].binding;
    memset(b, 0, sizeof *b);
    if (op == OP_TYPE_ARRAY || op == OP_TYPE_RUNTIME_ARRAY)
        return fail(s, "binding %u is an array of descriptors (not supported)", bnum);
    if (sc == SC_STORAGE_BUFFER || sc == SC_UNIFORM) {
        if (op != OP_TYPE_STRUCT)
            return fail(s, "binding %u: buffer variable %u does not point to a struct", bnum, var);
        if (sc == SC_STORAGE_BUFFER || s->ids[t].buffer_block)
            b->kind = VKDP_BIND_STORAGE_BUFFER;
        else if (s->ids[t].block)
            b->kind = VKDP_BIND_UNIFORM_BUFFER;
        else
            return fail(s, "binding %u: struct %u is neither Block nor BufferBlock", bnum, t);
        if (b->kind == VKDP_BIND_STORAGE_BUFFER && !s->ids[var].non_writable) {
            /* writable unless every member is readonly */
            for (uint32_t m = 0; m + 2 < wc && !b->writable; m++) {
                int found;
                member_value(s, t, m, DEC_NON_WRITABLE, &found);
                b->writable = !found;
            }
        }
        return 0;
    }
    /* UniformConstant: texel buffers only */
    if (op == OP_TYPE_SAMPLED_IMAGE) {
        if (wc < 3)
            return fail(s, "binding %u: sampled image type %u is malformed", bnum, t);
        op = opcode_of(s, in[2], &in, &wc);
        if (op != OP_TYPE_IMAGE || wc < 9 || in[3] != DIM_BUFFER)
            return fail(s, "binding %u: only buffer samplers (samplerBuffer) are supported", bnum);
        b->kind = VKDP_BIND_UNIFORM_TEXEL;
        return 0;
    }
    if (op != OP_TYPE_IMAGE || wc < 9)
        return fail(s, "binding %u: variable %u is not a buffer, texel buffer or sampler buffer "
                       "(opcode %u)", bnum, var, op);
    if (in[3] != DIM_BUFFER)
        return fail(s, "binding %u: images other than texel buffers are not supported", bnum);
    if (in[7] == 1) {
        b->kind = VKDP_BIND_UNIFORM_TEXEL;
    } else if (in[7] == 2) {
        b->kind = VKDP_BIND_STORAGE_TEXEL;
        b->writable = !s->ids[var].non_writable;
        b->format = image_format(in[8]);
    } else {
        return fail(s, "binding %u: texel buffer %u is neither sampled nor storage", bnum, var);
    }
    return 0;
}

static int add_binding(spv *s, vkdp_spirv_info *out, uint32_t var, const vkdp_spirv_binding *b)
{
    const id_info *v = &s->ids[var];
    if (!v->has_binding)
        return fail(s, "resource variable %u has no Binding decoration", var);
    if (v->has_set && v->set != 0)
        return fail(s, "binding %u is in descriptor set %u: only set 0 is supported", v->binding,
                    v->set);
    if (v->binding >= VKDP_SPIRV_MAX_BINDINGS)
        return fail(s, "binding %u: at most %d bindings are supported", v->binding,
                    VKDP_SPIRV_MAX_BINDINGS);
    vkdp_spirv_binding *o = &out->binding[v->binding];
    if (o->kind != VKDP_BIND_NONE && o->kind != b->kind)
        return fail(s, "binding %u is declared both as %s and as %s", v->binding,
                    vkdp_bind_kind_name(o->kind), vkdp_bind_kind_name(b->kind));
    if (o->kind != VKDP_BIND_NONE && o->format != b->format)
        return fail(s, "binding %u is declared with two image formats", v->binding);
    o->kind = b->kind;
    o->format = b->format;
    o->writable |= b->writable;
    if (v->binding + 1 > out->nbindings)
        out->nbindings = v->binding + 1;
    return 0;
}

static int variables(spv *s, vkdp_spirv_info *out)
{
    int have_push = 0;
    for (uint32_t id = 1; id < s->bound; id++) {
        const uint32_t *in, *pt;
        uint32_t wc, pwc;
        if (opcode_of(s, id, &in, &wc) != OP_VARIABLE)
            continue;
        if (wc < 4)
            return fail(s, "OpVariable %u with %u words", id, wc);
        uint32_t sc = in[3];
        if (sc != SC_UNIFORM_CONSTANT && sc != SC_UNIFORM && sc != SC_PUSH_CONSTANT &&
            sc != SC_STORAGE_BUFFER)
            continue;
        if (opcode_of(s, in[1], &pt, &pwc) != OP_TYPE_POINTER || pwc < 4)
            return fail(s, "variable %u: type %u is not a pointer", id, in[1]);
        if (sc == SC_PUSH_CONSTANT) {
            if (have_push++)
                return fail(s, "two push-constant blocks (variable %u)", id);
            if (type_size(s, pt[3], 0, 0, &out->push_bytes))
                return -1;
            continue;
        }
        vkdp_spirv_binding b;
        if (resource(s, id, sc, pt[3], &b) || add_binding(s, out, id, &b))
            return -1;
    }
    return 0;
}

static int workgroup_size(spv *s, vkdp_spirv_info *out)
{
    if (!s->entry)
        return fail(s, "no GLCompute entry point");
    int found = s->mode != 0;
    for (int d = 0; d < 3; d++) {
        out->local_size_spec[d] = -1;
        if (s->mode == MODE_LOCAL_SIZE)
            out->local_size[d] = s->mode_size[d];
        else if (s->mode == MODE_LOCAL_SIZE_ID &&
                 const_u32(s, s->mode_size[d], &out->local_size[d], &out->local_size_spec[d],
                           "LocalSizeId"))
            return -1;
    }
    /* A WorkgroupSize built-in constant takes precedence over the execution mode. */
    for (uint32_t id = 1; id < s->bound; id++) {
        if (!s->ids[id].has_builtin || s->ids[id].builtin != BUILTIN_WORKGROUP_SIZE)
            continue;
        const uint32_t *in;
        uint32_t wc, op = opcode_of(s, id, &in, &wc);
        if (op != OP_CONSTANT_COMPOSITE && op != OP_SPEC_CONSTANT_COMPOSITE)
            continue; /* the decoration on a variable is not a size */
        if (wc != 6)
            return fail(s, "WorkgroupSize constant %u has %u components, not 3", id, wc - 3);
        for (int d = 0; d < 3; d++)
            if (const_u32(s, in[3 + d], &out->local_size[d], &out->local_size_spec[d],
                          "WorkgroupSize"))
                return -1;
        found = 1;
    }
    if (!found)
        return fail(s, "no LocalSize, LocalSizeId or WorkgroupSize for the entry point");
    for (int d = 0; d < 3; d++)
        if (out->local_size[d] == 0)
            return fail(s, "workgroup size %u x %u x %u has a zero dimension", out->local_size[0],
                        out->local_size[1], out->local_size[2]);
    return 0;
}

int vkdp_spirv_reflect(const uint32_t *code, size_t bytes, vkdp_spirv_info *out, char *err,
                       size_t errlen)
{
    spv s = {.w = code, .nw = bytes / 4, .err = err, .errlen = errlen};
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = 0;
    if (!code || bytes % 4 || bytes < 20)
        return fail(&s, "%zu bytes is not a SPIR-V module (a multiple of 4, at least 20)", bytes);
    if (code[0] != SPV_MAGIC)
        return fail(&s, "bad magic number 0x%08x (not SPIR-V, or other endianness)", code[0]);
    s.bound = code[3];
    if (s.bound == 0 || s.bound > MAX_BOUND)
        return fail(&s, "id bound %u out of range (1..%u)", s.bound, MAX_BOUND);
    s.ids = calloc(s.bound, sizeof *s.ids);
    if (!s.ids)
        return fail(&s, "out of memory for %u ids", s.bound);
    int r = scan(&s);
    if (!r)
        r = variables(&s, out);
    if (!r)
        r = workgroup_size(&s, out);
    free(s.ids);
    free(s.md);
    return r;
}
