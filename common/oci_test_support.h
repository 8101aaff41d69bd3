// Test support for code that packages algorithm images: the smallest
// executables PackageBinary accepts or refuses. For tests only.
#ifndef SPOOR_COMMON_OCI_TEST_SUPPORT_H_
#define SPOOR_COMMON_OCI_TEST_SUPPORT_H_

#include <elf.h>

#include <cstring>
#include <string>

namespace spoor::testing {

// The headers of a 64-bit x86-64 executable with one PT_LOAD (and PT_INTERP
// if `dynamic`), followed by some code bytes. Enough for the ELF check.
inline std::string MinimalElf(bool dynamic) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_entry = 0x401000;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = dynamic ? 2 : 1;
  std::string out(reinterpret_cast<const char*>(&eh), sizeof(eh));
  Elf64_Phdr load{};
  load.p_type = PT_LOAD;
  load.p_flags = PF_R | PF_X;
  load.p_vaddr = 0x400000;
  out.append(reinterpret_cast<const char*>(&load), sizeof(load));
  if (dynamic) {
    Elf64_Phdr interp{};
    interp.p_type = PT_INTERP;
    out.append(reinterpret_cast<const char*>(&interp), sizeof(interp));
  }
  out.append("\x31\xff\xb8\x3c\x00\x00\x00\x0f\x05", 9);  // exit(0)
  return out;
}

}  // namespace spoor::testing

#endif  // SPOOR_COMMON_OCI_TEST_SUPPORT_H_
