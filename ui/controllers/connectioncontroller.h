// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"
#include "storage.h"

#include <QObject>

#include <functional>

class QMenu;
class QThread;
class QWidget;

namespace outbox::ui {

class Session;

// Which outbox the console has open, and how the operator picks another: a file (dialog or drop), a URL, the
// server dialog (opened again with its fields kept after a failed connect), the recent list. It asks first
// when the open outbox is busy, has the session open the new one, remembers it among the recent ones, and
// tells the window when an outbox is about to be replaced and when one opened (or failed to).
class ConnectionController : public QObject
{
    Q_OBJECT
public:
    ConnectionController(Session *session, QWidget *dialogParent);
    ~ConnectionController() override;

    const ConnectionSpec &spec() const { return m_spec; }
    bool isOpen() const { return m_open; }
    QString lastError() const { return m_lastError; }

    // FILE_OR_URL: a postgresql://, mysql:// or sqlite: URL, or the path of an existing outbox file.
    void openLocation(const QString &location);
    void open(const ConnectionSpec &spec, Storage::OpenMode mode);
    void openFileDialog(bool create);
    // The server dialog; after a failed connect it opens again with the fields kept and the error shown.
    void connectToServer(const ConnectionSpec &initial = {}, const QString &error = {});
    // File ▸ Recent, rebuilt whenever the list changes (servers ask for their password again).
    void setRecentMenu(QMenu *menu);
    // The File menu's ways to open an outbox: a file, a new file, a server, the demo (openDemo), the recent ones.
    void buildMenu(QMenu *file, const std::function<void()> &openDemo);
    // Read-only: outboxes are opened without writing anything (Storage::OpenMode::ReadOnly: no schema upgrade,
    // no WAL switch), and no new one is created.
    void setReadOnly(bool readOnly) { m_readOnly = readOnly; }
    // Asked before another outbox replaces an open one: why to confirm first (empty: no need).
    void setBusyCheck(std::function<QString()> check) { m_busy = std::move(check); }

Q_SIGNALS:
    // Another outbox (another = a different one, not the same again) is about to be opened: what belonged to
    // the previous one goes.
    void aboutToOpen(const ConnectionSpec &spec, bool another);
    // After every attempt (empty error: opened). A failure is then shown, or the server dialog reopened.
    void opened(const QString &error);

private:
    void onSessionOpened(const QString &error);
    void addRecent(const ConnectionSpec &spec);
    void rebuildRecentMenu();

    Session *m_session;
    QWidget *m_parent;
    ConnectionSpec m_spec;
    bool m_open = false;
    QString m_lastError;
    bool m_fromDialog = false;
    bool m_readOnly = false;
    QMenu *m_recentMenu = nullptr;
    std::function<QString()> m_busy;
    // A server tried before the open outbox is given up (a connect that fails leaves it open).
    QThread *m_trying = nullptr;
    void tryServerThenOpen(const ConnectionSpec &spec);
};

} // namespace outbox::ui
