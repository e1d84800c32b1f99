# Image loading, boot planning, the boot ROM's reset vector and HTIF; include()d from
# src/board/CMakeLists.txt after vessel_board is defined.
target_sources(vessel_board PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/loader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/boot_rom.cpp
  ${CMAKE_CURRENT_LIST_DIR}/htif.cpp)
target_link_libraries(vessel_board PRIVATE ZLIB::ZLIB)

if(VESSEL_TESTS)
  add_executable(board_test
    ${CMAKE_CURRENT_LIST_DIR}/loader_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/htif_test.cpp)
  target_link_libraries(board_test PRIVATE vessel_board ZLIB::ZLIB GTest::gtest_main)
  add_test(NAME board_test COMMAND board_test)
  set_tests_properties(board_test PROPERTIES LABELS "unit")

  # The fuzz targets and their corpus smoke test. Lives here until tests/CMakeLists.txt does
  # add_subdirectory(fuzz) itself (then drop these lines: a binary dir can be added only once).
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fuzz ${PROJECT_BINARY_DIR}/tests/fuzz)
endif()
