// spoor study create | add | remove | list
#include <iostream>

#include "absl/strings/str_join.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"

namespace spoor {
namespace {

nlohmann::ordered_json StudyToJson(const v1::Study& study) {
  return {{"name", study.name()},
          {"organisations",
           std::vector<std::string>(study.organisations().begin(), study.organisations().end())},
          {"researchers",
           std::vector<std::string>(study.researchers().begin(), study.researchers().end())},
          {"created_by", study.created_by()},
          {"created_at", FormatTimestamp(study.created_at())}};
}

void PrintStudy(const v1::Study& study, const OutputOptions& output) {
  if (output.json) {
    PrintJson(StudyToJson(study));
    return;
  }
  std::cout << "study " << study.name() << "\n  organisations: "
            << (study.organisations().empty() ? "(none)"
                                              : absl::StrJoin(study.organisations(), ", "))
            << "\n  researchers:   "
            << (study.researchers().empty() ? "(none)" : absl::StrJoin(study.researchers(), ", "))
            << "\n";
}

}  // namespace

absl::Status StudyCommand(const std::string& config_path, const StudyOptions& options,
                          const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  if (options.action == "list") {
    SPOOR_ASSIGN_OR_RETURN(std::vector<v1::Study> studies, client->ListStudies());
    if (output.json) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const v1::Study& study : studies) list.push_back(StudyToJson(study));
      PrintJson({{"studies", std::move(list)}});
      return absl::OkStatus();
    }
    std::vector<std::vector<std::string>> rows;
    for (const v1::Study& study : studies) {
      rows.push_back({study.name(), absl::StrJoin(study.organisations(), ","),
                      absl::StrJoin(study.researchers(), ",")});
    }
    std::cout << FormatTable({"study", "organisations", "researchers"}, rows, {});
    return absl::OkStatus();
  }
  if (options.action == "create") {
    SPOOR_ASSIGN_OR_RETURN(v1::Study study, client->CreateStudy(options.study));
    PrintStudy(study, output);
    return absl::OkStatus();
  }
  // add / remove: each organisation and researcher named, in turn.
  if (options.organisations.empty() && options.researchers.empty()) {
    return absl::InvalidArgumentError("name at least one --org or --researcher");
  }
  v1::Study study;
  v1::ChangeStudyRequest change;
  change.set_study(options.study);
  change.set_remove(options.action == "remove");
  for (const std::string& organisation : options.organisations) {
    change.set_organisation(organisation);
    SPOOR_ASSIGN_OR_RETURN(study, client->ChangeStudy(change));
  }
  for (const std::string& researcher : options.researchers) {
    change.set_researcher(researcher);
    SPOOR_ASSIGN_OR_RETURN(study, client->ChangeStudy(change));
  }
  PrintStudy(study, output);
  return absl::OkStatus();
}

}  // namespace spoor
