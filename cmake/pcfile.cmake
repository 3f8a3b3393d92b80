# Writes cvmattest.pc from cvmattest.pc.in (cmake -P, or included by the install step):
#   PC_IN, PC_OUT      the template and the file to write
#   PC_PREFIX          the install prefix as given at install time
#   PC_LIBDIR, PC_INCLUDEDIR  GNUInstallDirs' values: relative to the prefix, or absolute
#                      (as packagers may give them), then written as they are
#   PC_VERSION         the project's version
foreach(d LIBDIR INCLUDEDIR)
    if(IS_ABSOLUTE "${PC_${d}}")
        set(CVMA_PC_${d} "${PC_${d}}")
    else()
        set(CVMA_PC_${d} "\${prefix}/${PC_${d}}")
    endif()
endforeach()
set(CVMA_PC_PREFIX "${PC_PREFIX}")
set(PROJECT_VERSION "${PC_VERSION}")
configure_file("${PC_IN}" "${PC_OUT}" @ONLY)
