/* SPIR-V reflection of a compute shader: the descriptor bindings of set 0, the push-constant
 * block's size and the workgroup size, read from the module itself so that pipeline layouts never
 * have to be described by hand (and a description that disagrees with the shader is caught). */
#ifndef VKDP_VK_SPIRV_H
#define VKDP_VK_SPIRV_H
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

/* Bindings 0..VKDP_SPIRV_MAX_BINDINGS-1 of set 0. */
#define VKDP_SPIRV_MAX_BINDINGS 32

typedef enum {
    VKDP_BIND_NONE = 0,           /* no variable at this binding number */
    VKDP_BIND_STORAGE_BUFFER,     /* buffer Block { ... } (std430) */
    VKDP_BIND_UNIFORM_BUFFER,     /* uniform Block { ... } */
    VKDP_BIND_UNIFORM_TEXEL,      /* samplerBuffer / textureBuffer */
    VKDP_BIND_STORAGE_TEXEL,      /* imageBuffer */
} vkdp_bind_kind;

typedef struct {
    vkdp_bind_kind kind;
    int writable;                 /* the shader may write it (no readonly qualifier) */
    VkFormat format;              /* storage texel buffers: the image format, else UNDEFINED */
} vkdp_spirv_binding;

typedef struct {
    uint32_t nbindings;           /* highest binding number + 1 (0: none) */
    vkdp_spirv_binding binding[VKDP_SPIRV_MAX_BINDINGS];
    uint32_t push_bytes;          /* end of the push-constant block's last member (0: none) */
    uint32_t local_size[3];       /* workgroup size (spec constants at their default) */
    int32_t local_size_spec[3];   /* specialization id of each dimension, -1 when fixed */
} vkdp_spirv_info;

/* Parses code (bytes long). Returns 0, or -1 with a one-line reason in err (which names the
 * instruction or id at fault); never reads outside code. */
int vkdp_spirv_reflect(const uint32_t *code, size_t bytes, vkdp_spirv_info *out, char *err,
                       size_t errlen);

const char *vkdp_bind_kind_name(vkdp_bind_kind k);

#endif
