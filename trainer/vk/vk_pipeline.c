/* Compute pipelines, created once per (shader, specialization constants) and cached. */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"
#include "vkdp/vk/shaders.h"

static int same_key(const vkdp_pipeline *p, const char *shader, const uint32_t *spec, uint32_t nspec,
                    uint32_t nbindings, uint32_t push_bytes)
{
    return p->nspec == nspec && p->nbindings == nbindings && p->push_bytes == push_bytes &&
           !strcmp(p->shader, shader) && (nspec == 0 || !memcmp(p->spec, spec, nspec * sizeof *spec));
}

vkdp_pipeline *vkdp_pipeline_get(vkdp_device *dev, const char *shader, uint32_t nbindings, uint32_t push_bytes,
                                 const uint32_t *spec, uint32_t nspec)
{
    for (int i = 0; i < dev->npipes; i++)
        if (same_key(dev->pipes[i], shader, spec, nspec, nbindings, push_bytes))
            return dev->pipes[i];
    if (nspec > 16)
        VKDP_FATAL("shader %s: %u specialization constants (max 16)", shader, nspec);
    if (strlen(shader) >= sizeof(((vkdp_pipeline *)0)->shader))
        VKDP_FATAL("shader name too long: %s", shader);
    const vkdp_spirv *spv = vkdp_shader_find(shader);
    if (!spv)
        VKDP_FATAL("shader '%s' is not built into this binary (no shaders/%s.comp)", shader, shader);

    vkdp_pipeline *p = vkdp_xcalloc(1, sizeof *p);
    snprintf(p->shader, sizeof p->shader, "%s", shader);
    if (nspec)
        memcpy(p->spec, spec, nspec * sizeof *spec);
    p->nspec = nspec;
    p->nbindings = nbindings;
    p->push_bytes = push_bytes;

    VkShaderModuleCreateInfo smi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = spv->size,
        .pCode = spv->code,
    };
    VK_CHECK(vkCreateShaderModule(dev->device, &smi, NULL, &p->module));

    VkDescriptorSetLayoutBinding b[32];
    if (nbindings > 32)
        VKDP_FATAL("shader %s: %u bindings (max 32)", shader, nbindings);
    for (uint32_t i = 0; i < nbindings; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dli = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = nbindings,
        .pBindings = b,
    };
    VK_CHECK(vkCreateDescriptorSetLayout(dev->device, &dli, NULL, &p->dsl));
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = push_bytes};
    VkPipelineLayoutCreateInfo pli = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->dsl,
        .pushConstantRangeCount = push_bytes ? 1 : 0,
        .pPushConstantRanges = &pr,
    };
    VK_CHECK(vkCreatePipelineLayout(dev->device, &pli, NULL, &p->layout));

    VkSpecializationMapEntry me[16];
    for (uint32_t i = 0; i < nspec; i++)
        me[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = nspec,
        .pMapEntries = me,
        .dataSize = 4 * nspec,
        .pData = p->spec,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .flags = dev->capture_stats ? VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR : 0,
        .stage =
            {
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = p->module,
                .pName = "main",
                .pSpecializationInfo = nspec ? &si : NULL,
            },
        .layout = p->layout,
    };
    VK_CHECK(vkCreateComputePipelines(dev->device, dev->pcache, 1, &ci, NULL, &p->pipeline));

    dev->pipes = vkdp_xrealloc(dev->pipes, (size_t)(dev->npipes + 1) * sizeof *dev->pipes);
    dev->pipes[dev->npipes++] = p;
    return p;
}

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
