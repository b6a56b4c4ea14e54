/* What the pipeline cache holds (keys) and what the driver says about a pipeline (statistics). */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

int vkdp_pipeline_count(const vkdp_device *dev) { return dev->npipes; }

void vkdp_pipeline_key_at(const vkdp_device *dev, int i, vkdp_pipeline_key *key)
{
    if (i < 0 || i >= dev->npipes)
        VKDP_FATAL("pipeline %d of %d", i, dev->npipes);
    const vkdp_pipeline *p = dev->pipes[i];
    key->shader = p->shader;
    key->spec = p->spec;
    key->nspec = p->nspec;
    key->wg_x = p->wg_x;
}

int vkdp_pipeline_stats(vkdp_device *dev, const vkdp_pipeline *p, vkdp_pipeline_stat *out, int max)
{
    if (!dev->capture_stats)
        return -1;
    PFN_vkGetPipelineExecutableStatisticsKHR get =
        (PFN_vkGetPipelineExecutableStatisticsKHR)vkGetDeviceProcAddr(dev->device, "vkGetPipelineExecutableStatisticsKHR");
    if (!get)
        return -1;
    VkPipelineExecutableInfoKHR ei = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR,
        .pipeline = p->pipeline,
        .executableIndex = 0, /* a compute pipeline has one executable */
    };
    uint32_t n = 0;
    VK_CHECK(get(dev->device, &ei, &n, NULL));
    VkPipelineExecutableStatisticKHR *st = vkdp_xcalloc(n ? n : 1, sizeof *st);
    for (uint32_t i = 0; i < n; i++)
        st[i].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
    VkResult r = get(dev->device, &ei, &n, st);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        VK_CHECK(r);
    int w = 0;
    for (uint32_t i = 0; i < n && w < max; i++, w++) {
        snprintf(out[w].name, sizeof out[w].name, "%.63s", st[i].name);
        switch (st[i].format) {
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: out[w].value = st[i].value.b32; break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: out[w].value = (uint64_t)st[i].value.i64; break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR: out[w].value = (uint64_t)st[i].value.f64; break;
        default: out[w].value = st[i].value.u64; break;
        }
    }
    free(st);
    return w;
}
