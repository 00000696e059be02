// SPDX-License-Identifier: MIT
#include "operatorlog.h"

#include "sqlstorage.h"

namespace outbox::detail {

Result<QList<OperatorAction>> operatorActions(Storage &storage, int limit)
{
    auto *ours = dynamic_cast<SqlStorage *>(&storage);
    if (!ours)
        return Error(Error::Unsupported, QStringLiteral("this outbox's format keeps no operators' history"));
    return ours->operatorActions(limit);
}

} // namespace outbox::detail
