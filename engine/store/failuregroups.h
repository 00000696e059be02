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

// The groups by cause alone, across types and HTTP statuses (one error text in many types is one group): a
// merged group keeps the type and HTTP status its members share (else an empty type, status 0), the example
// of its largest member, the sum of the counts and the earliest and latest failure. members[i] gets the
// indexes in `groups` of the i-th merged group's members. Largest first.
QList<FailureGroup> groupsByCauseAlone(const QList<FailureGroup> &groups, QList<QList<qsizetype>> *members);

} // namespace outbox
