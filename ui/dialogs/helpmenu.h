// SPDX-License-Identifier: MIT
#pragma once

class QMenu;
class QWidget;

namespace outbox::ui {

// The Help menu: the keyboard list (F1) and About, shown over window.
void addHelpMenu(QMenu *help, QWidget *window);

} // namespace outbox::ui
