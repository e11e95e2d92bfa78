# Aduana, English: the reference for every other language (each must have every message here, with the same
# variables). Error sentences are the error table's own (crates/error-table); other languages key them error-<number>.

## Notifications to the trader.
notice-receipt = Your declaration has been received.
notice-acceptance = Your declaration is accepted with MRN { $mrn }.
notice-rejection = Your declaration is rejected; each error says where and why.
notice-documentary-check = Documents are requested: a documentary check will be made before release.
notice-physical-examination = The goods are selected for physical examination before release.
notice-control-result-clear = Control result: no irregularity.
notice-control-result-irregularity = Control result: irregularity.
notice-assessed = Duties and taxes are assessed.
notice-payment-request = Please pay { $amount } before release.
notice-payment = A payment of { $amount } is received ({ $reference }).
notice-release = Your goods are released.
notice-cancellation = Your declaration is cancelled.
notice-agency-awaited = Release waits for the partner agency { $agency }: { $reason }
notice-agency-released = The partner agency { $agency } releases your goods.
notice-agency-inspection = The partner agency { $agency } holds your goods for inspection.
notice-agency-joint-inspection = The partner agency { $agency } asks for a joint inspection with customs.
notice-agency-refused = The partner agency { $agency } refuses entry of your goods.
notice-amendment = Your amendment is accepted as version { $version }.
notice-refund-request = A refund of { $amount } is requested ({ $refund }).
notice-refund = A refund of { $amount } is paid ({ $refund }).

## Pages.
page-signed-in = Signed in as { $name } ({ $role })
page-sign-out = Sign out
page-sign-in-title = Sign in to Aduana
page-sign-in = Sign in
page-login = Login
page-password = Password
page-token-note = Software connects with an API token instead; ask your administrator for one.
page-declarations = Declarations
page-declarant = Declarant
page-status = Status
page-lane = Lane
page-lodged = Lodged ({ $zone })
page-no-declarations = No declarations yet.
receipt-title = Receipt for duties and taxes paid
receipt-receipt = Receipt
receipt-amount = Amount
receipt-received = Received
receipt-payer = Payer (declarant)
receipt-declaration = Declaration
receipt-order = Payment order
receipt-bank = Bank and its reference
receipt-sha = SHA-256 of the receipt
receipt-note = The SHA-256 is recorded with the payment in the declaration's history; recompute it over the receipt's JSON (GET /api/v1/receipts/{ $receipt }, field content) to check this page.
status-lodged = lodged
status-rejected = rejected
status-accepted = accepted
status-under_control = under control
status-assessed = assessed
status-awaiting_payment = awaiting payment
status-settled = settled
status-released = released
status-cancelled = cancelled
lane-green = green
lane-blue = blue
lane-yellow = yellow
lane-red = red
