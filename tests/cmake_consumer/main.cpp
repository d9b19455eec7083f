// Uses only installed public headers and the exported targets.
#include <async_cassandra/consistency.hpp>
#include <async_cassandra/data_type.hpp>

#include <cstdio>

int main() {
    auto type = async_cassandra::DataType::map_of(async_cassandra::DataType::simple(async_cassandra::TypeKind::varchar),
                                                  async_cassandra::DataType::simple(async_cassandra::TypeKind::int_));
    std::printf("%s %s\n", type->cql_name().c_str(),
                std::string(async_cassandra::to_string(async_cassandra::Consistency::local_quorum)).c_str());
    return type->cql_name() == "map<text, int>" ? 0 : 1;
}
