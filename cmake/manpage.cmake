# Generates the trainer(1) man page from the program's own --help texts, so the two never drift:
#   cmake -DTRAINER=path/to/trainer -DVERSION=x.y.z -DOUT=trainer.1 -P cmake/manpage.cmake
# `trainer --help` becomes DESCRIPTION, every subcommand it lists gets a section with its
# `trainer SUBCOMMAND --help`, verbatim (no-fill) with roff's special characters escaped.
foreach(v TRAINER VERSION OUT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "manpage.cmake: -D${v}=... is required")
  endif()
endforeach()
# No sanitizer leak report or Open MPI refusal may end up in the page.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")

function(help_of out)
  execute_process(COMMAND ${TRAINER} ${ARGN} --help RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR text STREQUAL "")
    message(FATAL_ERROR "manpage.cmake: `trainer ${ARGN} --help` failed (${rc}): ${err}")
  endif()
  # roff: backslashes first, then hyphens as minus signs (options copy-paste), then lines that
  # would start a request
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

help_of(main)
# the subcommands are the lines "  name  summary" after "subcommands:"
string(REGEX MATCH "subcommands:\n(( +[a-z]+ +[^\n]*\n)+)" block "${main}")
string(REGEX MATCHALL "\n +[a-z]+ " names "\n${CMAKE_MATCH_1}")
if(NOT names)
  message(FATAL_ERROR "manpage.cmake: no subcommand list in `trainer --help`")
endif()
set(page ".TH TRAINER 1 \"\" \"vkdp ${VERSION}\" \"User Commands\"
.SH NAME
trainer \\- data\\-parallel transfer learning (EfficientNetB0 + Keras head) in Vulkan compute shaders, with MPI and HDF5
.SH SYNOPSIS
.B trainer
[\\fISUBCOMMAND\\fR] [\\fIOPTIONS\\fR]
.br
.B mpirun \\-np
\\fIP\\fR \\fBtrainer\\fR [\\fISUBCOMMAND\\fR] [\\fIOPTIONS\\fR]
.br
.B trainer \\-\\-version
.SH DESCRIPTION
.nf
${main}.fi
.SH SUBCOMMANDS
")
foreach(n ${names})
  string(STRIP "${n}" n)
  help_of(sub ${n})
  string(APPEND page ".SS trainer ${n}\n.nf\n${sub}.fi\n")
endforeach()
string(APPEND page ".SH FILES
PREFIX is the installation prefix: /usr for the Debian package.
.TP
.I PREFIX/share/vkdp/train.sbatch
requeueable Slurm batch script (a template: copy it, set VKDP_* variables)
.TP
.I PREFIX/share/vkdp/plot_metrics.py
learning curves of a checkpoint as a PNG (needs python3\\-h5py, python3\\-matplotlib)
.SH SEE ALSO
.BR mpirun (1),
.BR srun (1),
.BR h5dump (1)
")
file(WRITE "${OUT}.tmp" "${page}")
file(RENAME "${OUT}.tmp" "${OUT}")
