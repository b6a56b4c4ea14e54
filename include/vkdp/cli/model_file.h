/* What predict and evaluate read with --checkpoint: a checkpoint or a Keras export of one. */
#ifndef VKDP_CLI_MODEL_FILE_H
#define VKDP_CLI_MODEL_FILE_H

#include "vkdp/ckpt/ckpt.h"
#include "vkdp/train/session_cfg.h"

/* Reads path into *ck (vkdp_model_read; a fatal error naming the file and field otherwise) and
 * points sc at its backbone: a checkpoint's weights file unless --weights gave one (its SHA-256
 * is checked later); an export's own tensors, where --weights is refused. */
void vkdp_cli_read_model(const char *cmd, const char *path, vkdp_ckpt_state *ck, vkdp_session_cfg *sc);

#endif
