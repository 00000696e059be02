// SPDX-License-Identifier: MIT
#pragma once

// Private to the engine: how failed events are gathered into their groups where the database cannot group them.
// Not installed.

#include "storage.h"

#include <QHash>
#include <QList>

namespace outbox {

// Collects failures into their groups: add() rows of one type, HTTP status and error text (cause set, count
// and times as counted), result() gives the groups, largest first, then by type, HTTP status and cause.
class FailureGroupCollector
{
public:
    void add(const FailureGroup &row);
    QList<FailureGroup> result();

private:
    QHash<QString, qsizetype> m_index;
    QList<FailureGroup> m_groups;
};

} // namespace outbox
