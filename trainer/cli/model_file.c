/* --checkpoint of predict and evaluate: a checkpoint or a Keras export; see model_file.h. */
#include "vkdp/cli/model_file.h"

#include "vkdp/ckpt/keras_export.h"
#include "vkdp/core/common.h"

void vkdp_cli_read_model(const char *cmd, const char *path, vkdp_ckpt_state *ck, vkdp_session_cfg *sc)
{
    char err[4096];
    if (vkdp_model_read(path, ck, err, sizeof err) != 0)
        VKDP_FATAL("%s", err);
    if (!ck->from_export) {
        if (!sc->weights)
            sc->weights = ck->weights_file;
        return;
    }
    if (sc->weights)
        VKDP_FATAL("trainer %s: --weights does not apply to %s: a Keras export holds its own backbone", cmd, path);
    sc->weights = ck->weights_file;
    sc->weights_with_head = 1;
}
