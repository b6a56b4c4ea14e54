/* Compute pipelines, created once per (shader, specialization constants, workgroup size) and
 * cached; the descriptor-set and push-constant layouts come from the shader's SPIR-V. */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define MAX_SPEC 16

static int same_key(const vkdp_pipeline *p, const uint32_t *code, const uint32_t *spec,
                    uint32_t nspec, uint32_t wg_x)
{
    return p->code == code && p->nspec == nspec && p->wg_x == wg_x &&
           (nspec == 0 || !memcmp(p->spec, spec, nspec * sizeof *spec));
}

static VkDescriptorType descriptor_type(vkdp_bind_kind k)
{
    switch (k) {
    case VKDP_BIND_UNIFORM_BUFFER: return VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER;
    case VKDP_BIND_UNIFORM_TEXEL: return VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
    case VKDP_BIND_STORAGE_TEXEL: return VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
    default: return VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    }
}

VkDescriptorType vkdp_descriptor_type(vkdp_bind_kind k) { return descriptor_type(k); }

static void create_layouts(vkdp_device *dev, vkdp_pipeline *p)
{
    VkDescriptorSetLayoutBinding b[VKDP_SPIRV_MAX_BINDINGS];
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->info.nbindings; i++) {
        if (p->info.binding[i].kind == VKDP_BIND_NONE)
            continue;
        b[n++] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = descriptor_type(p->info.binding[i].kind),
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    }
    VkDescriptorSetLayoutCreateInfo dli = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = n,
        .pBindings = b,
    };
    VK_CHECK(vkCreateDescriptorSetLayout(dev->device, &dli, NULL, &p->dsl));
    VkPushConstantRange pr = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = p->info.push_bytes};
    VkPipelineLayoutCreateInfo pli = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->dsl,
        .pushConstantRangeCount = p->info.push_bytes ? 1 : 0,
        .pPushConstantRanges = &pr,
    };
    VK_CHECK(vkCreatePipelineLayout(dev->device, &pli, NULL, &p->layout));
}

/* Reflects the module and checks it against this device's limits. */
static void reflect(const vkdp_device *dev, vkdp_pipeline *p, const vkdp_spirv *code)
{
    char err[256];
    if (vkdp_spirv_reflect(code->code, code->size, &p->info, err, sizeof err))
        VKDP_FATAL("shader %s: SPIR-V reflection failed: %s", p->shader, err);
    const vkdp_device_info *in = &dev->info;
    if (p->info.push_bytes > in->max_push_constants)
        VKDP_FATAL("shader %s: push-constant block of %u bytes exceeds maxPushConstantsSize %u",
                   p->shader, p->info.push_bytes, in->max_push_constants);
    if (p->wg_x) {
        if (p->info.local_size_spec[0] < 0)
            VKDP_FATAL("shader %s: workgroup size %u set by the caller, but the shader fixes "
                       "local_size_x = %u (declare layout(local_size_x_id = N) in)",
                       p->shader, p->wg_x, p->info.local_size[0]);
        if ((uint32_t)p->info.local_size_spec[0] < p->nspec)
            VKDP_FATAL("shader %s: local_size_x_id %d is also specialization constant %d of the "
                       "caller's list", p->shader, p->info.local_size_spec[0],
                       p->info.local_size_spec[0]);
        p->info.local_size[0] = p->wg_x;
    }
    uint64_t inv = (uint64_t)p->info.local_size[0] * p->info.local_size[1] * p->info.local_size[2];
    for (int d = 0; d < 3; d++)
        if (p->info.local_size[d] > in->max_workgroup_size[d])
            VKDP_FATAL("shader %s: workgroup size %u in dimension %d exceeds the device's %u",
                       p->shader, p->info.local_size[d], d, in->max_workgroup_size[d]);
    if (inv > in->max_workgroup_invocations)
        VKDP_FATAL("shader %s: %llu invocations per workgroup exceed the device's %u", p->shader,
                   (unsigned long long)inv, in->max_workgroup_invocations);
}

vkdp_pipeline *vkdp_pipeline_get_code(vkdp_device *dev, const vkdp_spirv *code,
                                      const uint32_t *spec, uint32_t nspec, uint32_t wg_x)
{
    for (int i = 0; i < dev->npipes; i++)
        if (same_key(dev->pipes[i], code->code, spec, nspec, wg_x))
            return dev->pipes[i];
    if (nspec > MAX_SPEC)
        VKDP_FATAL("shader %s: %u specialization constants (max %d)", code->name, nspec, MAX_SPEC);
    vkdp_pipeline *p = vkdp_xcalloc(1, sizeof *p);
    snprintf(p->shader, sizeof p->shader, "%s", code->name);
    p->code = code->code;
    if (nspec)
        memcpy(p->spec, spec, nspec * sizeof *spec);
    p->nspec = nspec;
    p->wg_x = wg_x;
    reflect(dev, p, code);

    VkShaderModuleCreateInfo smi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = code->size,
        .pCode = code->code,
    };
    VK_CHECK(vkCreateShaderModule(dev->device, &smi, NULL, &p->module));
    create_layouts(dev, p);

    /* constants 0..nspec-1 from the caller, then the workgroup size at the shader's id */
    uint32_t values[MAX_SPEC + 1];
    VkSpecializationMapEntry me[MAX_SPEC + 1];
    memcpy(values, p->spec, nspec * sizeof *values);
    for (uint32_t i = 0; i < nspec; i++)
        me[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
    uint32_t n = nspec;
    if (wg_x) {
        values[n] = wg_x;
        me[n] = (VkSpecializationMapEntry){
            .constantID = (uint32_t)p->info.local_size_spec[0], .offset = 4 * n, .size = 4};
        n++;
    }
    VkSpecializationInfo si = {
        .mapEntryCount = n,
        .pMapEntries = me,
        .dataSize = 4 * n,
        .pData = values,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage =
            {
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = p->module,
                .pName = "main",
                .pSpecializationInfo = n ? &si : NULL,
            },
        .layout = p->layout,
    };
    VK_CHECK(vkCreateComputePipelines(dev->device, dev->pcache, 1, &ci, NULL, &p->pipeline));

    dev->pipes = vkdp_xrealloc(dev->pipes, (size_t)(dev->npipes + 1) * sizeof *dev->pipes);
    dev->pipes[dev->npipes++] = p;
    return p;
}

vkdp_pipeline *vkdp_pipeline_get(vkdp_device *dev, const char *shader, const uint32_t *spec,
                                 uint32_t nspec, uint32_t wg_x)
{
    const vkdp_spirv *spv = vkdp_shader_find(shader);
    if (!spv)
        VKDP_FATAL("shader '%s' is not built into this binary (no shaders/%s.comp)", shader, shader);
    return vkdp_pipeline_get_code(dev, spv, spec, nspec, wg_x);
}

const vkdp_spirv_info *vkdp_pipeline_info(const vkdp_pipeline *p) { return &p->info; }
const char *vkdp_pipeline_shader(const vkdp_pipeline *p) { return p->shader; }

void vkdp_pipelines_destroy(vkdp_device *dev)
{
    for (int i = 0; i < dev->npipes; i++) {
        vkdp_pipeline *p = dev->pipes[i];
        vkDestroyPipeline(dev->device, p->pipeline, NULL);
        vkDestroyPipelineLayout(dev->device, p->layout, NULL);
        vkDestroyDescriptorSetLayout(dev->device, p->dsl, NULL);
        vkDestroyShaderModule(dev->device, p->module, NULL);
        free(p);
    }
    free(dev->pipes);
    dev->pipes = NULL;
    dev->npipes = 0;
}
