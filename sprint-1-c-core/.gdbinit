# .gdbinit — gdb commands for sprint-1-c-core's dynamic array (da_array).
#
# What this is: user-defined gdb commands that print a da_array (dynarray.h)
# the way you think of it — length, capacity, element size, and each element
# as a typed value — instead of a raw `void *data`. `make gdb` starts gdb
# with `-x <lab>/.gdbinit`: gdb does not load a .gdbinit from the current
# directory unless it is listed in its auto-load safe-path (a .gdbinit in a
# downloaded project could run arbitrary commands), and -x loads this file
# explicitly, whatever the safe-path says.
#
# How it works: gdb substitutes $arg0, $arg1, ... textually, so ARR can be
# any expression naming a da_array or a pointer to one (gdb lets `.` follow
# a pointer), and the element type is cast onto `data`. A type of several
# words (`struct gdb_point`, `unsigned int`) arrives as several arguments,
# hence the $argc cases. When sizeof(TYPE) differs from elem_size the
# commands warn and reinterpret the bytes: they show the len * elem_size /
# sizeof(TYPE) values of TYPE that fit, never reading past the elements.
# Convenience variables $da_i, $da_n and $da_p are scratch. No command
# makes gdb call a function in the program: the array's name is printed with
# `echo`, not as a printf "%s" argument, because gdb copies a string literal
# argument into the program's memory by calling its malloc(). An inferior
# call fails where ptrace cannot write the CPU's extended register state
# (gdb 13.1 on an AVX-512 virtual machine: "Couldn't write extended state
# status: Bad address"), and cannot run on a core file. The cast is
# written out in each command rather than in a helper command: gdb has no
# private user-defined commands, and a helper would show in
# `help user-defined` beside the three commands a student should use.
#
#   da_info  ARR             len, cap, elem_size, data
#   da_print ARR TYPE        da_info, then every element as TYPE
#   da_elem  ARR IDX TYPE    element IDX as TYPE (bounds-checked)

set pagination off
set print pretty off

define da_info
  if $argc != 1
    echo usage: da_info ARR\n
  else
    echo da_array $arg0:\040
    printf "len=%lu cap=%lu elem_size=%lu data=%p\n", (unsigned long)($arg0).len, (unsigned long)($arg0).cap, (unsigned long)($arg0).elem_size, ($arg0).data
  end
end
document da_info
Print a da_array's header: len, cap, elem_size and the data pointer.
Usage: da_info ARR
ARR is a da_array or a pointer to one (any expression without spaces).
end

define da_print
  if $argc < 2 || $argc > 4
    echo usage: da_print ARR TYPE   (e.g. da_print squares int, da_print pts struct gdb_point)\n
  else
    da_info $arg0
    if $argc == 2
      set $da_p = ($arg1 *)($arg0).data
    end
    if $argc == 3
      set $da_p = ($arg1 $arg2 *)($arg0).data
    end
    if $argc == 4
      set $da_p = ($arg1 $arg2 $arg3 *)($arg0).data
    end
    set $da_n = ($arg0).len * ($arg0).elem_size / sizeof(*$da_p)
    if sizeof(*$da_p) != ($arg0).elem_size
      printf "warning: sizeof element type = %lu but elem_size = %lu\n", (unsigned long)sizeof(*$da_p), (unsigned long)($arg0).elem_size
    end
    if $da_n == 0
      echo (empty)\n
    end
    set $da_i = 0
    while $da_i < $da_n
      printf "[%lu] ", (unsigned long)$da_i
      output $da_p[$da_i]
      echo \n
      set $da_i = $da_i + 1
    end
  end
end
document da_print
Print a da_array's header, then each element cast to TYPE, one per line
as "[index] value". When sizeof(TYPE) differs from elem_size, warns and
shows the bytes of the len elements as TYPE values.
Usage: da_print ARR TYPE
Examples: da_print squares int
          da_print pts struct gdb_point
end

define da_elem
  if $argc < 3 || $argc > 5
    echo usage: da_elem ARR IDX TYPE\n
  else
    if $argc == 3
      set $da_p = ($arg2 *)($arg0).data
    end
    if $argc == 4
      set $da_p = ($arg2 $arg3 *)($arg0).data
    end
    if $argc == 5
      set $da_p = ($arg2 $arg3 $arg4 *)($arg0).data
    end
    set $da_n = ($arg0).len * ($arg0).elem_size / sizeof(*$da_p)
    if sizeof(*$da_p) != ($arg0).elem_size
      printf "warning: sizeof element type = %lu but elem_size = %lu\n", (unsigned long)sizeof(*$da_p), (unsigned long)($arg0).elem_size
    end
    if ($arg1) >= $da_n
      printf "index %lu out of range (%lu elements)\n", (unsigned long)($arg1), (unsigned long)$da_n
    else
      printf "[%lu] ", (unsigned long)($arg1)
      output $da_p[$arg1]
      echo \n
    end
  end
end
document da_elem
Print element IDX of a da_array as TYPE, after a bounds check.
Usage: da_elem ARR IDX TYPE
Example: da_elem points 2 struct gdb_point
end
