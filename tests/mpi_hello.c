/* The smallest MPI program: proves a launcher (srun --mpi=pmix, mpirun) wires ranks together.
 * Prints "mpi_hello: rank R of N on HOST" per rank and checks an allreduce of the ranks. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "mpi_hello: MPI_Init failed\n");
        return 1;
    }
    int rank = 0, size = 0, len = 0, sum = -1;
    char host[MPI_MAX_PROCESSOR_NAME];
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(host, &len);
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    printf("mpi_hello: rank %d of %d on %s, allreduce(rank) = %d%s\n", rank, size, host, sum,
           sum == size * (size - 1) / 2 ? " (ok)" : " (WRONG)");
    fflush(stdout);
    MPI_Finalize();
    return sum == size * (size - 1) / 2 ? 0 : 1;
}
