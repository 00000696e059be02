// SPDX-License-Identifier: MIT
#include "connectioncontroller.h"

#include "menuaction.h"

#include "connectdialog.h"
#include "session.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QThread>
#include <QTimer>

namespace outbox::ui {

namespace {
constexpr int kMaxRecent = 10;
} // namespace

ConnectionController::ConnectionController(Session *session, QWidget *dialogParent)
    : QObject(dialogParent), m_session(session), m_parent(dialogParent)
{
    connect(m_session, &Session::opened, this, &ConnectionController::onSessionOpened);
}

ConnectionController::~ConnectionController()
{
    if (m_trying) // a connect attempt ends within its connect timeout; its answer then has nobody to go to
        m_trying->wait();
}

void ConnectionController::openLocation(const QString &location)
{
    const bool url = location.contains(QLatin1String("://")) || location.startsWith(QLatin1String("sqlite:"))
        || location.startsWith(QLatin1String("postgresql:")) || location.startsWith(QLatin1String("postgres:"));
    if (!url) {
        open(ConnectionSpec::sqlite(QFileInfo(location).absoluteFilePath()), Storage::OpenMode::AnyOutbox);
        return;
    }
    auto spec = ConnectionSpec::fromUrl(location);
    if (!spec.isOk()) {
        m_lastError = spec.error().message();
        QMessageBox::critical(m_parent, tr("Cannot open"), m_lastError);
        Q_EMIT opened(m_lastError);
        return;
    }
    open(spec.value(), Storage::OpenMode::AnyOutbox);
}

void ConnectionController::open(const ConnectionSpec &spec, Storage::OpenMode mode)
{
    if (m_readOnly) {
        if (mode == Storage::OpenMode::CreateIfMissing && spec.isFile() && !QFileInfo::exists(spec.database)) {
            QMessageBox::information(m_parent, tr("Read-only"),
                tr("Read-only: no new outbox is created (%1). Turn it off in View ▸ Read-only.").arg(spec.database));
            m_fromDialog = false;
            return;
        }
        mode = Storage::OpenMode::ReadOnly;
    }
    const bool another = spec.toUrl() != m_spec.toUrl();
    // Replacing an outbox that this console is working on asks first.
    if (m_open && another && m_busy) {
        const QString why = m_busy();
        if (!why.isEmpty()
            && QMessageBox::question(m_parent, tr("Open another outbox"),
                   tr("Open %1 instead of %2?\n\n%3").arg(spec.displayUrl(), m_spec.displayUrl(), why),
                   QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
                != QMessageBox::Yes) {
            m_fromDialog = false;
            return;
        }
    }
    Q_EMIT aboutToOpen(spec, another);
    m_spec = spec;
    m_open = false;
    m_session->open(spec, mode);
}

void ConnectionController::onSessionOpened(const QString &error)
{
    m_lastError = error;
    m_open = error.isEmpty();
    const bool fromDialog = std::exchange(m_fromDialog, false);
    if (m_open)
        addRecent(m_spec);
    Q_EMIT opened(error);
    if (m_open)
        return;
    if (fromDialog) {
        // Back to the dialog with what was typed (the password too, for this run only) and why it failed.
        const ConnectionSpec failed = m_spec;
        QTimer::singleShot(0, this, [this, failed, error] { connectToServer(failed, error); });
        return;
    }
    QMessageBox::critical(m_parent, tr("Cannot open the outbox"), error);
}

void ConnectionController::openFileDialog(bool create)
{
    QSettings s;
    const QString dir = s.value(QStringLiteral("lastDirectory"), QDir::homePath()).toString();
    const QString filter = tr("Outbox databases (*.db *.sqlite *.sqlite3);;All files (*)");
    const QString path = create ? QFileDialog::getSaveFileName(m_parent, tr("New outbox file"), dir, filter)
                                : QFileDialog::getOpenFileName(m_parent, tr("Open an outbox file"), dir, filter);
    if (path.isEmpty())
        return;
    s.setValue(QStringLiteral("lastDirectory"), QFileInfo(path).absolutePath());
    open(ConnectionSpec::sqlite(path), create ? Storage::OpenMode::CreateIfMissing : Storage::OpenMode::AnyOutbox);
}

void ConnectionController::connectToServer(const ConnectionSpec &initial, const QString &error)
{
    ConnectDialog dialog(m_parent);
    if (ConnectDialog::offers(initial))
        dialog.setSpec(initial);
    dialog.setError(error);
    if (dialog.exec() != QDialog::Accepted)
        return;
    if (m_open && !m_trying) {
        tryServerThenOpen(dialog.spec());
        return;
    }
    m_fromDialog = true; // a failure opens the dialog again, its fields kept
    open(dialog.spec(), Storage::OpenMode::AnyOutbox);
}

// With an outbox open, the server is reached first (a read-only probe, off the GUI thread): a URL typed wrong,
// a server down or a password refused brings the dialog back with the reason, and the open outbox stays open.
void ConnectionController::tryServerThenOpen(const ConnectionSpec &spec)
{
    m_trying = QThread::create([this, spec] {
        auto probe = Storage::probe(spec);
        const QString error = probe.isOk() ? QString() : probe.error().message();
        QMetaObject::invokeMethod(
            this,
            [this, spec, error] {
                m_trying->wait();
                delete m_trying;
                m_trying = nullptr;
                if (!error.isEmpty()) {
                    connectToServer(spec, error);
                    return;
                }
                m_fromDialog = true;
                open(spec, Storage::OpenMode::AnyOutbox);
            },
            Qt::QueuedConnection);
    });
    m_trying->start();
}

void ConnectionController::setRecentMenu(QMenu *menu)
{
    m_recentMenu = menu;
    rebuildRecentMenu();
}

void ConnectionController::addRecent(const ConnectionSpec &spec)
{
    ConnectionSpec stored = spec;
    stored.password.clear(); // never kept in settings
    const QString url = stored.toUrl();
    QSettings s;
    QStringList recent = s.value(QStringLiteral("recent")).toStringList();
    recent.removeAll(url);
    recent.prepend(url);
    s.setValue(QStringLiteral("recent"), recent.mid(0, kMaxRecent));
    rebuildRecentMenu();
}

void ConnectionController::rebuildRecentMenu()
{
    if (!m_recentMenu)
        return;
    m_recentMenu->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recent")).toStringList();
    for (const QString &url : recent) {
        QAction *a = m_recentMenu->addAction(url);
        connect(a, &QAction::triggered, this, [this, url] {
            auto spec = ConnectionSpec::fromUrl(url);
            if (!spec.isOk())
                return;
            if (!spec.value().isFile())
                connectToServer(spec.value()); // a server: asks for the password again
            else
                open(spec.value(), Storage::OpenMode::AnyOutbox);
        });
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void ConnectionController::buildMenu(QMenu *file, const std::function<void()> &openDemo)
{
    auto add = [this, file](const QString &text, const QString &name, const QKeySequence &key, auto slot) {
        return addMenuAction(file, text, name, key, this, slot);
    };
    add(tr("&Open outbox file…"), QStringLiteral("openFile"), QKeySequence::Open, [this] { openFileDialog(false); });
    add(tr("&New outbox file…"), QStringLiteral("newFile"), QKeySequence::New, [this] { openFileDialog(true); });
    add(tr("Connect to a database &server…"), QStringLiteral("connectPg"), QKeySequence(tr("Ctrl+Shift+O")),
        [this] { connectToServer(); });
    add(tr("Open the &demo outbox"), QStringLiteral("openDemo"), QKeySequence(), openDemo);
    setRecentMenu(file->addMenu(tr("&Recent")));
}

} // namespace outbox::ui
