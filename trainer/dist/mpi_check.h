/* MPI_CHECK: every MPI call of trainer/dist, checked; a failure is fatal with the expression,
 * file:line and MPI's message. Private to trainer/dist. */
#ifndef VKDP_DIST_MPI_CHECK_H
#define VKDP_DIST_MPI_CHECK_H
#include <mpi.h>
#include <stdio.h>

#include "vkdp/core/common.h"

#define MPI_CHECK(expr)                                                                         \
    do {                                                                                        \
        int vkdp_mpi_rc_ = (expr);                                                              \
        if (vkdp_mpi_rc_ != MPI_SUCCESS) {                                                      \
            char vkdp_mpi_msg_[MPI_MAX_ERROR_STRING];                                           \
            int vkdp_mpi_len_ = 0;                                                              \
            if (MPI_Error_string(vkdp_mpi_rc_, vkdp_mpi_msg_, &vkdp_mpi_len_) != MPI_SUCCESS)   \
                snprintf(vkdp_mpi_msg_, sizeof vkdp_mpi_msg_, "MPI error %d", vkdp_mpi_rc_);    \
            vkdp_fatal_at(__FILE__, __LINE__, "%s failed: %s", #expr, vkdp_mpi_msg_);           \
        }                                                                                       \
    } while (0)

#endif
