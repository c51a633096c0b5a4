/* MPI teams for the batch driver (built with -DALLIED5G_MPI=ON only).
 *
 * Ranks deal out each point's blocks round-robin (a5_batch.h), run them with
 * OpenMP inside each rank, and write one results file collectively through
 * parallel HDF5. Aggregates are merged into rank 0's by gathering each rank's
 * saved state (a5_aggregate.h): counts and exact sums add and histogram bins
 * merge, so the file is bit-identical to a one-process run. */
#ifndef A5_MPI_H
#define A5_MPI_H

#include "a5_batch.h"

/* A team over MPI_COMM_WORLD (MPI must be initialised), or NULL if out of memory. */
a5_batch_team *a5_mpi_team_alloc(void);
void a5_mpi_team_free(a5_batch_team *t);
/* The communicator, as a5_output_open_team wants it. */
void *a5_mpi_team_comm(a5_batch_team *t);

#endif
