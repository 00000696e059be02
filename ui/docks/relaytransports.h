// SPDX-License-Identifier: MIT
#pragma once

#include <QHash>
#include <QString>

class QUrl;

namespace outbox::ui {

// What the relay panel says of a transport, by URL scheme: its name, a word or two for the route figures, and
// its package (empty: built in).
struct RelayTransport
{
    QString name, shortName, package;
};
const QHash<QString, RelayTransport> &transports();
// A transport by the scheme of its URL, in a word or two (for the route figures).
QString shortTransportName(const QUrl &url);

} // namespace outbox::ui
