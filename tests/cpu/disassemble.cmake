# Build-time step of cpu_test: assemble encodings.S and keep objdump's listing of it.
# Invoked as cmake -DAS=... -DOBJDUMP=... -DSRC=... -DOBJ=... -DOUT=... -P disassemble.cmake
execute_process(COMMAND ${AS} -march=rv64gch_zihintpause_zba_zbb_zbs_zicbom_zicboz_zicbop_svinval_zfhmin -o ${OBJ} ${SRC} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${AS} failed on ${SRC}")
endif()
execute_process(COMMAND ${OBJDUMP} -d -M no-aliases ${OBJ} OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} failed on ${OBJ}")
endif()
