// SPDX-License-Identifier: MIT
#include "helpmenu.h"

#include <QAction>
#include <QApplication>
#include <QMenu>
#include <QMessageBox>

namespace outbox::ui {

void addHelpMenu(QMenu *help, QWidget *window)
{
    QAction *keys = help->addAction(QApplication::translate("MainWindow", "&Keyboard"));
    keys->setObjectName(QStringLiteral("keys"));
    keys->setShortcut(QKeySequence::HelpContents);
    QObject::connect(keys, &QAction::triggered, window, [window] {
        QMessageBox::information(window, QApplication::translate("MainWindow", "Keyboard"),
            QApplication::translate("MainWindow",
                "j / k or arrows: move\nEnter: event details\nEsc: clear the selection (live refresh goes on)\n"
                "Tab / Shift+Tab: the next / previous part\n/: find an event (id, subject, key)\n"
                "Ctrl+F: search payloads\nR: retry\nShift+P: replay\nShift+E: edit and retry\nDel: delete\n"
                "Ctrl+C: copy the id\nSpace: pause live refresh\nF5: refresh\nCtrl+E: compose an event\n"
                "Ctrl+Shift+S: start the relayer\nCtrl+Shift+1: relay once\n"
                "Ctrl+Shift+O: connect to a database server\nCtrl+O: open an outbox file\nF1: this list"));
    });
    QAction *about = help->addAction(QApplication::translate("MainWindow", "&About"));
    about->setObjectName(QStringLiteral("about"));
    QObject::connect(about, &QAction::triggered, window, [window] {
        QMessageBox::about(window, QApplication::translate("MainWindow", "Outbox Console"),
            QApplication::translate(
                "MainWindow", "Outbox Console %1\nA transactional-outbox engine and its operator console.")
                .arg(QApplication::applicationVersion()));
    });
}

} // namespace outbox::ui
