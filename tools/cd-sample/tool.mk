# cd-sample demangles C++ names through libstdc++'s __cxa_demangle (in
# common/collect/linux/symbols_dwfl.c, which cd-trace --stacks shares), so every program
# may need the C++ runtime; --as-needed drops it where unused.
LIBS += -lstdc++
