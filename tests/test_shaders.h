/* The test-only shaders of tests/shaders/ (every .comp there), embedded like the built-in ones
 * (CMake's vkdp_embed_shaders); pipelines from them with vkdp_pipeline_get_code. */
#ifndef VKDP_TEST_SHADERS_H
#define VKDP_TEST_SHADERS_H
#include "vkdp/vk/shaders.h"

const vkdp_spirv *test_shader_find(const char *name);
const vkdp_spirv *test_shader_list(void);

#endif
