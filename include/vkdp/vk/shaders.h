/* Embedded SPIR-V of every shaders/NAME.comp (generated at build time by glslc). */
#ifndef VKDP_SHADERS_H
#define VKDP_SHADERS_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;     /* file name without .comp */
    const uint32_t *code;
    size_t size;          /* bytes */
} vkdp_spirv;

/* NULL when no shader of that name was built in. */
const vkdp_spirv *vkdp_shader_find(const char *name);
/* Table terminated by an entry with name == NULL. */
const vkdp_spirv *vkdp_shader_list(void);

#endif
