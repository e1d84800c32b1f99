// vessel: the command line.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "board/virt.hpp"
#include "cli/fail.hpp"
#include "cli/image_cli.hpp"
#include "cli/run_cli.hpp"
#ifdef VESSEL_HAVE_API
#include "cli/daemon_cli.hpp"
#include "cli/migrate_cli.hpp"
#include "cli/snapshot_cli.hpp"
#endif
#include "cli/version.hpp"
#include "host/console_client.hpp"
#include "vmm/vm.hpp"

using vessel::cli::fail;

int main(int argc, char** argv) {
  CLI::App app{"Vessel: a hypervisor for RISC-V virtual machines"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  app.set_version_flag(
      "--version",
      [] {
        std::string text = vessel::cli::version_text();
        text.pop_back();  // CLI11 ends the line itself
        return text;
      },
      "Print Vessel's version and its libraries' and exit");
  CLI::App* version =
      app.add_subcommand("version", "Print Vessel's version and its libraries' (as --version)");

  vessel::cli::RunCommand run_command(app);
#ifdef VESSEL_HAVE_API
  vessel::cli::SnapshotCommand snapshot_command(app);
  vessel::cli::MigrateCommand migrate_command(app);
#endif
  CLI::App* attach = app.add_subcommand(
      "attach",
      "Connect the terminal to a VM's console socket (--console-socket); Ctrl-A x detaches");
  std::string attach_path;
  attach->add_option("PATH", attach_path, "The console socket")->required();

#ifdef VESSEL_HAVE_API
  // The daemon's subcommands; `logs --file PATH` (a --console-log ring) is among them.
  vessel::cli::DaemonCommands daemon_commands(app);
#endif
  // Disk images in other formats, through qemu-img.
  vessel::cli::ImageCommands image_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) { return app.exit(e); } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) { return app.exit(e); } catch (const CLI::ParseError& e) {
    return fail(e.what());
  }
  if (version->parsed()) {
    fmt::print("{}", vessel::cli::version_text());
    return vessel::kExitOk;
  }
  if (attach->parsed()) {
    vessel::AttachOptions attach_options;
    attach_options.path = attach_path;
    auto end = vessel::attach_console(attach_options);
    return end ? vessel::kExitOk : fail("attach: " + end.error().message);
  }
  if (auto status = image_commands.run()) return *status;
  if (auto status = run_command.run()) return *status;
#ifdef VESSEL_HAVE_API
  if (auto status = daemon_commands.run()) return *status;
  if (auto status = snapshot_command.run()) return *status;
  if (auto status = migrate_command.run()) return *status;
#endif
  return fail("no subcommand given");
}
