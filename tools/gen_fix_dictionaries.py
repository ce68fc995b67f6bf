"""Generate execflow's own FIX data dictionaries (src/execflow/fix/spec/*.xml).

The dictionaries are written from the compact tables below (our own transcription of the
fields, messages and enumerations of the FIX 4.4 and FIX 5.0 SP2 / FIXT 1.1 specifications that
the session layer and order routing need), in the common XML dictionary layout understood by
most FIX engines.

Usage: python tools/gen_fix_dictionaries.py [OUTPUT_DIR]
A unit test (tests/unit/fix/test_dictionary_files.py) checks the shipped files are up to date.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# --------------------------------------------------------------------------- fields
# (tag, name, type, enums) -- enums as "VALUE:DESCRIPTION VALUE:DESCRIPTION ..."

YN = "N:NO Y:YES"

#: SecurityType (167): the FIX 4.4 values (each its own description).
SECURITY_TYPES = " ".join(
    f"{v}:{v}"
    for v in (
        "ABS",
        "AMENDED",
        "AN",
        "BA",
        "BN",
        "BOX",
        "BRADY",
        "BRIDGE",
        "BUYSELL",
        "CB",
        "CD",
        "CL",
        "CMBS",
        "CMO",
        "COFO",
        "COFP",
        "CORP",
        "CP",
        "CPP",
        "CS",
        "DEFLTED",
        "DINP",
        "DN",
        "DUAL",
        "EUCD",
        "EUCORP",
        "EUCP",
        "EUSOV",
        "EUSUPRA",
        "FAC",
        "FADN",
        "FOR",
        "FORWARD",
        "FUT",
        "GO",
        "IET",
        "LOFC",
        "LQN",
        "MATURED",
        "MBS",
        "MF",
        "MIO",
        "MLEG",
        "MPO",
        "MPP",
        "MPT",
        "MT",
        "MTN",
        "NONE",
        "ONITE",
        "OPT",
        "PEF",
        "PFAND",
        "PN",
        "PS",
        "PZFJ",
        "RAN",
        "REPO",
        "RETIRED",
        "REV",
        "RVLV",
        "RVLVTRM",
        "SECLOAN",
        "SECPLEDGE",
        "SPCLA",
        "SPCLO",
        "SPCLT",
        "STN",
        "STRUCT",
        "SUPRA",
        "SWING",
        "TAN",
        "TAXA",
        "TBA",
        "TBILL",
        "TBOND",
        "TCAL",
        "TD",
        "TECP",
        "TERM",
        "TINT",
        "TIPS",
        "TNOTE",
        "TPRN",
        "TRAN",
        "UST",
        "USTB",
        "VRDN",
        "WAR",
        "WITHDRN",
        "XCN",
        "XLINKD",
        "YANK",
        "YCD",
    )
)

FIELDS: list[tuple[int, str, str, str]] = [
    (1, "Account", "STRING", ""),
    (6, "AvgPx", "PRICE", ""),
    (7, "BeginSeqNo", "SEQNUM", ""),
    (8, "BeginString", "STRING", ""),
    (9, "BodyLength", "LENGTH", ""),
    (10, "CheckSum", "STRING", ""),
    (11, "ClOrdID", "STRING", ""),
    (12, "Commission", "AMT", ""),
    (
        13,
        "CommType",
        "CHAR",
        "1:PER_UNIT 2:PERCENT 3:ABSOLUTE 4:PERCENTAGE_WAIVED_CASH_DISCOUNT "
        "5:PERCENTAGE_WAIVED_ENHANCED_UNITS 6:POINTS_PER_BOND_OR_CONTRACT",
    ),
    (14, "CumQty", "QTY", ""),
    (15, "Currency", "CURRENCY", ""),
    (16, "EndSeqNo", "SEQNUM", ""),
    (17, "ExecID", "STRING", ""),
    (18, "ExecInst", "MULTIPLEVALUESTRING", ""),
    (19, "ExecRefID", "STRING", ""),
    (
        21,
        "HandlInst",
        "CHAR",
        "1:AUTOMATED_EXECUTION_ORDER_PRIVATE 2:AUTOMATED_EXECUTION_ORDER_PUBLIC 3:MANUAL_ORDER",
    ),
    (
        22,
        "SecurityIDSource",
        "STRING",
        "1:CUSIP 2:SEDOL 3:QUIK 4:ISIN_NUMBER 5:RIC_CODE 6:ISO_CURRENCY_CODE 7:ISO_COUNTRY_CODE "
        "8:EXCHANGE_SYMBOL 9:CONSOLIDATED_TAPE_ASSOCIATION A:BLOOMBERG_SYMBOL B:WERTPAPIER "
        "C:DUTCH D:VALOREN E:SICOVAM F:BELGIAN G:COMMON H:CLEARING_HOUSE "
        "I:ISDA_FPML_PRODUCT_SPECIFICATION J:OPTIONS_PRICE_REPORTING_AUTHORITY",
    ),
    (29, "LastCapacity", "CHAR", "1:AGENT 2:CROSS_AS_AGENT 3:CROSS_AS_PRINCIPAL 4:PRINCIPAL"),
    (30, "LastMkt", "EXCHANGE", ""),
    (31, "LastPx", "PRICE", ""),
    (32, "LastQty", "QTY", ""),
    (34, "MsgSeqNum", "SEQNUM", ""),
    (35, "MsgType", "STRING", ""),  # enums filled from the message table
    (36, "NewSeqNo", "SEQNUM", ""),
    (37, "OrderID", "STRING", ""),
    (38, "OrderQty", "QTY", ""),
    (
        39,
        "OrdStatus",
        "CHAR",
        "0:NEW 1:PARTIALLY_FILLED 2:FILLED 3:DONE_FOR_DAY 4:CANCELED 5:REPLACED "
        "6:PENDING_CANCEL 7:STOPPED 8:REJECTED 9:SUSPENDED A:PENDING_NEW B:CALCULATED "
        "C:EXPIRED D:ACCEPTED_FOR_BIDDING E:PENDING_REPLACE",
    ),
    (
        40,
        "OrdType",
        "CHAR",
        "1:MARKET 2:LIMIT 3:STOP 4:STOP_LIMIT 5:MARKET_ON_CLOSE 6:WITH_OR_WITHOUT "
        "7:LIMIT_OR_BETTER 8:LIMIT_WITH_OR_WITHOUT 9:ON_BASIS A:ON_CLOSE B:LIMIT_ON_CLOSE "
        "C:FOREX_MARKET D:PREVIOUSLY_QUOTED E:PREVIOUSLY_INDICATED F:FOREX_LIMIT G:FOREX_SWAP "
        "H:FOREX_PREVIOUSLY_QUOTED I:FUNARI J:MARKET_IF_TOUCHED K:MARKET_WITH_LEFTOVER_AS_LIMIT "
        "L:PREVIOUS_FUND_VALUATION_POINT M:NEXT_FUND_VALUATION_POINT P:PEGGED",
    ),
    (41, "OrigClOrdID", "STRING", ""),
    (43, "PossDupFlag", "BOOLEAN", YN),
    (44, "Price", "PRICE", ""),
    (45, "RefSeqNum", "SEQNUM", ""),
    (48, "SecurityID", "STRING", ""),
    (49, "SenderCompID", "STRING", ""),
    (50, "SenderSubID", "STRING", ""),
    (52, "SendingTime", "UTCTIMESTAMP", ""),
    (
        54,
        "Side",
        "CHAR",
        "1:BUY 2:SELL 3:BUY_MINUS 4:SELL_PLUS 5:SELL_SHORT 6:SELL_SHORT_EXEMPT 7:UNDISCLOSED "
        "8:CROSS 9:CROSS_SHORT A:CROSS_SHORT_EXEMPT B:AS_DEFINED C:OPPOSITE D:SUBSCRIBE "
        "E:REDEEM F:LEND G:BORROW",
    ),
    (55, "Symbol", "STRING", ""),
    (56, "TargetCompID", "STRING", ""),
    (57, "TargetSubID", "STRING", ""),
    (58, "Text", "STRING", ""),
    (
        59,
        "TimeInForce",
        "CHAR",
        "0:DAY 1:GOOD_TILL_CANCEL 2:AT_THE_OPENING 3:IMMEDIATE_OR_CANCEL 4:FILL_OR_KILL "
        "5:GOOD_TILL_CROSSING 6:GOOD_TILL_DATE 7:AT_THE_CLOSE",
    ),
    (60, "TransactTime", "UTCTIMESTAMP", ""),
    (
        63,
        "SettlType",
        "CHAR",
        "0:REGULAR 1:CASH 2:NEXT_DAY 3:T_PLUS_2 4:T_PLUS_3 5:T_PLUS_4 6:FUTURE "
        "7:WHEN_AND_IF_ISSUED 8:SELLERS_OPTION 9:T_PLUS_5",
    ),
    (64, "SettlDate", "LOCALMKTDATE", ""),
    (65, "SymbolSfx", "STRING", ""),
    (66, "ListID", "STRING", ""),
    (75, "TradeDate", "LOCALMKTDATE", ""),
    (77, "PositionEffect", "CHAR", "C:CLOSE F:FIFO O:OPEN R:ROLLED"),
    (89, "Signature", "DATA", ""),
    (90, "SecureDataLen", "LENGTH", ""),
    (91, "SecureData", "DATA", ""),
    (93, "SignatureLength", "LENGTH", ""),
    (95, "RawDataLength", "LENGTH", ""),
    (96, "RawData", "DATA", ""),
    (97, "PossResend", "BOOLEAN", YN),
    (
        98,
        "EncryptMethod",
        "INT",
        "0:NONE_OTHER 1:PKCS 2:DES 3:PKCS_DES 4:PGP_DES 5:PGP_DES_MD5 6:PEM_DES_MD5",
    ),
    (99, "StopPx", "PRICE", ""),
    (100, "ExDestination", "EXCHANGE", ""),
    (
        102,
        "CxlRejReason",
        "INT",
        "0:TOO_LATE_TO_CANCEL 1:UNKNOWN_ORDER 2:BROKER_EXCHANGE_OPTION "
        "3:ORDER_ALREADY_IN_PENDING_CANCEL_OR_PENDING_REPLACE_STATUS "
        "4:UNABLE_TO_PROCESS_ORDER_MASS_CANCEL_REQUEST "
        "5:ORIGORDMODTIME_DID_NOT_MATCH_LAST_TRANSACTTIME_OF_ORDER "
        "6:DUPLICATE_CLORDID_RECEIVED 99:OTHER",
    ),
    (
        103,
        "OrdRejReason",
        "INT",
        "0:BROKER_EXCHANGE_OPTION 1:UNKNOWN_SYMBOL 2:EXCHANGE_CLOSED 3:ORDER_EXCEEDS_LIMIT "
        "4:TOO_LATE_TO_ENTER 5:UNKNOWN_ORDER 6:DUPLICATE_ORDER "
        "7:DUPLICATE_OF_A_VERBALLY_COMMUNICATED_ORDER 8:STALE_ORDER 9:TRADE_ALONG_REQUIRED "
        "10:INVALID_INVESTOR_ID 11:UNSUPPORTED_ORDER_CHARACTERISTIC 12:SURVEILLENCE_OPTION "
        "13:INCORRECT_QUANTITY 14:INCORRECT_ALLOCATED_QUANTITY 15:UNKNOWN_ACCOUNT 99:OTHER",
    ),
    (107, "SecurityDesc", "STRING", ""),
    (108, "HeartBtInt", "INT", ""),
    (110, "MinQty", "QTY", ""),
    (111, "MaxFloor", "QTY", ""),
    (112, "TestReqID", "STRING", ""),
    (113, "ReportToExch", "BOOLEAN", YN),
    (115, "OnBehalfOfCompID", "STRING", ""),
    (116, "OnBehalfOfSubID", "STRING", ""),
    (122, "OrigSendingTime", "UTCTIMESTAMP", ""),
    (123, "GapFillFlag", "BOOLEAN", YN),
    (126, "ExpireTime", "UTCTIMESTAMP", ""),
    (128, "DeliverToCompID", "STRING", ""),
    (129, "DeliverToSubID", "STRING", ""),
    (141, "ResetSeqNumFlag", "BOOLEAN", YN),
    (142, "SenderLocationID", "STRING", ""),
    (143, "TargetLocationID", "STRING", ""),
    (144, "OnBehalfOfLocationID", "STRING", ""),
    (145, "DeliverToLocationID", "STRING", ""),
    (
        150,
        "ExecType",
        "CHAR",
        "0:NEW 3:DONE_FOR_DAY 4:CANCELED 5:REPLACED 6:PENDING_CANCEL 7:STOPPED 8:REJECTED "
        "9:SUSPENDED A:PENDING_NEW B:CALCULATED C:EXPIRED D:RESTATED E:PENDING_REPLACE "
        "F:TRADE G:TRADE_CORRECT H:TRADE_CANCEL I:ORDER_STATUS",
    ),
    (151, "LeavesQty", "QTY", ""),
    (152, "CashOrderQty", "QTY", ""),
    (167, "SecurityType", "STRING", SECURITY_TYPES),
    (168, "EffectiveTime", "UTCTIMESTAMP", ""),
    (198, "SecondaryOrderID", "STRING", ""),
    (200, "MaturityMonthYear", "MONTHYEAR", ""),
    (202, "StrikePrice", "PRICE", ""),
    (207, "SecurityExchange", "EXCHANGE", ""),
    (210, "MaxShow", "QTY", ""),
    (212, "XmlDataLen", "LENGTH", ""),
    (213, "XmlData", "DATA", ""),
    (229, "TradeOriginationDate", "LOCALMKTDATE", ""),
    (336, "TradingSessionID", "STRING", ""),
    (347, "MessageEncoding", "STRING", ""),
    (354, "EncodedTextLen", "LENGTH", ""),
    (355, "EncodedText", "DATA", ""),
    (369, "LastMsgSeqNumProcessed", "SEQNUM", ""),
    (371, "RefTagID", "INT", ""),
    (372, "RefMsgType", "STRING", ""),
    (
        373,
        "SessionRejectReason",
        "INT",
        "0:INVALID_TAG_NUMBER 1:REQUIRED_TAG_MISSING 2:TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE "
        "3:UNDEFINED_TAG 4:TAG_SPECIFIED_WITHOUT_A_VALUE 5:VALUE_IS_INCORRECT "
        "6:INCORRECT_DATA_FORMAT_FOR_VALUE 7:DECRYPTION_PROBLEM 8:SIGNATURE_PROBLEM "
        "9:COMPID_PROBLEM 10:SENDINGTIME_ACCURACY_PROBLEM 11:INVALID_MSGTYPE "
        "12:XML_VALIDATION_ERROR 13:TAG_APPEARS_MORE_THAN_ONCE "
        "14:TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER 15:REPEATING_GROUP_FIELDS_OUT_OF_ORDER "
        "16:INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP "
        "17:NON_DATA_VALUE_INCLUDES_FIELD_DELIMITER "
        "99:OTHER",
    ),
    (376, "ComplianceID", "STRING", ""),
    (
        378,
        "ExecRestatementReason",
        "INT",
        "0:GT_CORPORATE_ACTION 1:GT_RENEWAL 2:VERBAL_CHANGE 3:REPRICING_OF_ORDER 4:BROKER_OPTION "
        "5:PARTIAL_DECLINE_OF_ORDERQTY 6:CANCEL_ON_TRADING_HALT 7:CANCEL_ON_SYSTEM_FAILURE "
        "8:MARKET_OPTION 9:CANCELED_NOT_BEST 10:WAREHOUSE_RECAP 99:OTHER",
    ),
    (379, "BusinessRejectRefID", "STRING", ""),
    (
        380,
        "BusinessRejectReason",
        "INT",
        "0:OTHER 1:UNKNOWN_ID 2:UNKNOWN_SECURITY 3:UNSUPPORTED_MESSAGE_TYPE "
        "4:APPLICATION_NOT_AVAILABLE 5:CONDITIONALLY_REQUIRED_FIELD_MISSING 6:NOT_AUTHORIZED "
        "7:DELIVERTO_FIRM_NOT_AVAILABLE_AT_THIS_TIME",
    ),
    (383, "MaxMessageSize", "LENGTH", ""),
    (384, "NoMsgTypes", "NUMINGROUP", ""),
    (385, "MsgDirection", "CHAR", "R:RECEIVE S:SEND"),
    (386, "NoTradingSessions", "NUMINGROUP", ""),
    (
        423,
        "PriceType",
        "INT",
        "1:PERCENTAGE 2:PER_UNIT 3:FIXED_AMOUNT 4:DISCOUNT 5:PREMIUM 6:SPREAD 7:TED_PRICE "
        "8:TED_YIELD 9:YIELD 10:FIXED_CABINET_TRADE_PRICE 11:VARIABLE_CABINET_TRADE_PRICE",
    ),
    (432, "ExpireDate", "LOCALMKTDATE", ""),
    (434, "CxlRejResponseTo", "CHAR", "1:ORDER_CANCEL_REQUEST 2:ORDER_CANCEL_REPLACE_REQUEST"),
    (
        447,
        "PartyIDSource",
        "CHAR",
        "1:KOREAN_INVESTOR_ID 2:TAIWANESE_QUALIFIED_FOREIGN_INVESTOR_ID_QFII_FID "
        "3:TAIWANESE_TRADING_ACCOUNT 4:MALAYSIAN_CENTRAL_DEPOSITORY "
        "5:CHINESE_B_SHARE 6:UK_NATIONAL_INSURANCE_OR_PENSION_NUMBER "
        "7:US_SOCIAL_SECURITY_NUMBER 8:US_EMPLOYER_IDENTIFICATION_NUMBER "
        "9:AUSTRALIAN_BUSINESS_NUMBER A:AUSTRALIAN_TAX_FILE_NUMBER B:BIC "
        "C:GENERALLY_ACCEPTED_MARKET_PARTICIPANT_IDENTIFIER D:PROPRIETARY_CUSTOM_CODE "
        "E:ISO_COUNTRY_CODE F:SETTLEMENT_ENTITY_LOCATION G:MIC H:CSD_PARTICIPANT_MEMBER_CODE "
        "I:DIRECTED_BROKER_THREE_CHARACTER_ACRONYM_AND_ORDER_NUMBER",
    ),
    (448, "PartyID", "STRING", ""),
    (452, "PartyRole", "INT", ""),
    (453, "NoPartyIDs", "NUMINGROUP", ""),
    (454, "NoSecurityAltID", "NUMINGROUP", ""),
    (455, "SecurityAltID", "STRING", ""),
    (456, "SecurityAltIDSource", "STRING", ""),
    (
        460,
        "Product",
        "INT",
        "1:AGENCY 2:COMMODITY 3:CORPORATE 4:CURRENCY 5:EQUITY 6:GOVERNMENT 7:INDEX 8:LOAN "
        "9:MONEYMARKET 10:MORTGAGE 11:MUNICIPAL 12:OTHER 13:FINANCING",
    ),
    (461, "CFICode", "STRING", ""),
    (464, "TestMessageIndicator", "BOOLEAN", YN),
    (468, "RoundingDirection", "CHAR", "0:ROUND_TO_NEAREST 1:ROUND_DOWN 2:ROUND_UP"),
    (469, "RoundingModulus", "FLOAT", ""),
    (516, "OrderPercent", "PERCENTAGE", ""),
    (523, "PartySubID", "STRING", ""),
    (526, "SecondaryClOrdID", "STRING", ""),
    (527, "SecondaryExecID", "STRING", ""),
    (
        528,
        "OrderCapacity",
        "CHAR",
        "A:AGENCY G:PROPRIETARY I:INDIVIDUAL P:PRINCIPAL R:RISKLESS_PRINCIPAL "
        "W:AGENT_FOR_OTHER_MEMBER",
    ),
    (541, "MaturityDate", "LOCALMKTDATE", ""),
    (544, "CashMargin", "CHAR", "1:CASH 2:MARGIN_OPEN 3:MARGIN_CLOSE"),
    (553, "Username", "STRING", ""),
    (554, "Password", "STRING", ""),
    (
        581,
        "AccountType",
        "INT",
        "1:ACCOUNT_IS_CARRIED_ON_CUSTOMER_SIDE_OF_BOOKS "
        "2:ACCOUNT_IS_CARRIED_ON_NON_CUSTOMER_SIDE_OF_BOOKS 3:HOUSE_TRADER "
        "4:FLOOR_TRADER 6:ACCOUNT_IS_CARRIED_ON_NON_CUSTOMER_SIDE_OF_BOOKS_AND_IS_CROSS_MARGINED "
        "7:ACCOUNT_IS_HOUSE_TRADER_AND_IS_CROSS_MARGINED 8:JOINT_BACKOFFICE_ACCOUNT",
    ),
    (583, "ClOrdLinkID", "STRING", ""),
    (586, "OrigOrdModTime", "UTCTIMESTAMP", ""),
    (625, "TradingSessionSubID", "STRING", ""),
    (627, "NoHops", "NUMINGROUP", ""),
    (628, "HopCompID", "STRING", ""),
    (629, "HopSendingTime", "UTCTIMESTAMP", ""),
    (630, "HopRefID", "SEQNUM", ""),
    (636, "WorkingIndicator", "BOOLEAN", YN),
    (660, "AcctIDSource", "INT", "1:BIC 2:SID_CODE 3:TFM 4:OMGEO 5:DTCC_CODE 99:OTHER"),
    (789, "NextExpectedMsgSeqNum", "SEQNUM", ""),
    (790, "OrdStatusReqID", "STRING", ""),
    (797, "CopyMsgIndicator", "BOOLEAN", YN),
    (802, "NoPartySubIDs", "NUMINGROUP", ""),
    (803, "PartySubIDType", "INT", ""),
    (847, "TargetStrategy", "INT", ""),
    (848, "TargetStrategyParameters", "STRING", ""),
    (849, "ParticipationRate", "PERCENTAGE", ""),
    (
        851,
        "LastLiquidityInd",
        "INT",
        "1:ADDED_LIQUIDITY 2:REMOVED_LIQUIDITY 3:LIQUIDITY_ROUTED_OUT",
    ),
    # StrategyParametersGrp (FIX 5.0; carried on FIX 4.4 too: algo orders, docs/algos.md)
    (957, "NoStrategyParameters", "NUMINGROUP", ""),
    (958, "StrategyParameterName", "STRING", ""),
    (959, "StrategyParameterType", "INT", ""),
    (960, "StrategyParameterValue", "STRING", ""),
    # block allocations (docs/settlement.md "Allocations"): J, P, AK
    (53, "Quantity", "QTY", ""),
    (70, "AllocID", "STRING", ""),
    (71, "AllocTransType", "CHAR", "0:NEW 1:REPLACE 2:CANCEL"),
    (72, "RefAllocID", "STRING", ""),
    (73, "NoOrders", "NUMINGROUP", ""),
    (78, "NoAllocs", "NUMINGROUP", ""),
    (79, "AllocAccount", "STRING", ""),
    (80, "AllocQty", "QTY", ""),
    (
        87,
        "AllocStatus",
        "INT",
        "0:ACCEPTED 1:BLOCK_LEVEL_REJECT 2:ACCOUNT_LEVEL_REJECT 3:RECEIVED 4:INCOMPLETE "
        "5:REJECTED_BY_INTERMEDIARY",
    ),
    (
        88,
        "AllocRejCode",
        "INT",
        "0:UNKNOWN_ACCOUNT 1:INCORRECT_QUANTITY 2:INCORRECT_AVERAGE_PRICE "
        "3:UNKNOWN_EXECUTING_BROKER_MNEMONIC 4:COMMISSION_DIFFERENCE 5:UNKNOWN_ORDERID "
        "6:UNKNOWN_LISTID 7:OTHER",
    ),
    (118, "NetMoney", "AMT", ""),
    (381, "GrossTradeAmt", "AMT", ""),
    (
        626,
        "AllocType",
        "INT",
        "1:CALCULATED 2:PRELIMINARY 5:READY_TO_BOOK 7:WAREHOUSE_INSTRUCTION "
        "8:REQUEST_TO_INTERMEDIARY",
    ),
    (664, "ConfirmID", "STRING", ""),
    (
        665,
        "ConfirmStatus",
        "INT",
        "1:RECEIVED 2:MISMATCHED_ACCOUNT 3:MISSING_SETTLEMENT_INSTRUCTIONS 4:CONFIRMED "
        "5:REQUEST_REJECTED",
    ),
    (666, "ConfirmTransType", "INT", "0:NEW 1:REPLACE 2:CANCEL"),
    (772, "ConfirmRefID", "STRING", ""),
    (773, "ConfirmType", "INT", "1:STATUS 2:CONFIRMATION 3:CONFIRMATION_REQUEST_REJECTED"),
    (776, "IndividualAllocRejCode", "INT", ""),
    (857, "AllocNoOrdersType", "INT", "0:NOT_SPECIFIED 1:EXPLICIT_LIST_PROVIDED"),
    (862, "NoCapacities", "NUMINGROUP", ""),
    (863, "OrderCapacityQty", "QTY", ""),
    # indications of interest (IOI, 6)
    (23, "IOIID", "STRING", ""),
    (25, "IOIQltyInd", "CHAR", "H:HIGH L:LOW M:MEDIUM"),
    (26, "IOIRefID", "STRING", ""),
    (27, "IOIQty", "STRING", ""),  # S, M, L, U or a quantity: not an enumeration
    (28, "IOITransType", "CHAR", "C:CANCEL N:NEW R:REPLACE"),
    (62, "ValidUntilTime", "UTCTIMESTAMP", ""),
    (130, "IOINaturalFlag", "BOOLEAN", YN),
    # institutional order types: pegs and discretion (docs/orders.md)
    (211, "PegOffsetValue", "FLOAT", ""),
    (
        1094,
        "PegPriceType",
        "INT",
        "1:LAST_PEG 2:MID_PRICE_PEG 3:OPENING_PEG 4:MARKET_PEG 5:PRIMARY_PEG 7:PEG_TO_VWAP "
        "8:TRAILING_STOP_PEG 9:PEG_TO_LIMIT_PRICE",
    ),
    (
        388,
        "DiscretionInst",
        "CHAR",
        "0:RELATED_TO_DISPLAYED_PRICE 1:RELATED_TO_MARKET_PRICE 2:RELATED_TO_PRIMARY_PRICE "
        "3:RELATED_TO_LOCAL_PRIMARY_PRICE 4:RELATED_TO_MIDPOINT_PRICE "
        "5:RELATED_TO_LAST_TRADE_PRICE 6:RELATED_TO_VWAP 7:AVERAGE_PRICE_GUARANTEE",
    ),
    (389, "DiscretionOffsetValue", "FLOAT", ""),
]

# Fields that exist only in FIXT 1.1 / FIX 5.0 SP2.
FIELDS_50: list[tuple[int, str, str, str]] = [
    (1057, "AggressorIndicator", "BOOLEAN", YN),
    (
        1128,
        "ApplVerID",
        "STRING",
        "0:FIX27 1:FIX30 2:FIX40 3:FIX41 4:FIX42 5:FIX43 6:FIX44 7:FIX50 8:FIX50SP1 9:FIX50SP2",
    ),
    (1129, "CstmApplVerID", "STRING", ""),
    (
        1137,
        "DefaultApplVerID",
        "STRING",
        "0:FIX27 1:FIX30 2:FIX40 3:FIX41 4:FIX42 5:FIX43 6:FIX44 7:FIX50 8:FIX50SP1 9:FIX50SP2",
    ),
    (1156, "ApplExtID", "INT", ""),
    (
        1409,
        "SessionStatus",
        "INT",
        "0:SESSION_ACTIVE 1:SESSION_PASSWORD_CHANGED 2:SESSION_PASSWORD_DUE_TO_EXPIRE "
        "3:NEW_SESSION_PASSWORD_DOES_NOT_COMPLY_WITH_POLICY 4:SESSION_LOGOUT_COMPLETE "
        "5:INVALID_USERNAME_OR_PASSWORD 6:ACCOUNT_LOCKED 7:LOGONS_ARE_NOT_ALLOWED_AT_THIS_TIME "
        "8:PASSWORD_EXPIRED",
    ),
    (925, "NewPassword", "STRING", ""),
]

# Enumerations extended in FIX 5.0 SP2.
ENUMS_50_EXTRA: dict[str, str] = {
    "OrdType": "Q:COUNTER_ORDER_SELECTION R:STOP_ON_BID_OR_OFFER S:STOP_LIMIT_ON_BID_OR_OFFER",
    "TimeInForce": "8:GOOD_THROUGH_CROSSING 9:AT_CROSSING",
    "ExecType": "J:TRADE_IN_A_CLEARING_HOLD K:TRADE_HAS_BEEN_RELEASED_TO_CLEARING "
    "L:TRIGGERED_OR_ACTIVATED_BY_SYSTEM",
    "CxlRejReason": "7:PRICE_EXCEEDS_CURRENT_PRICE 8:PRICE_EXCEEDS_CURRENT_PRICE_BAND "
    "18:INVALID_PRICE_INCREMENT",
    "OrdRejReason": "16:PRICE_EXCEEDS_CURRENT_PRICE_BAND 18:INVALID_PRICE_INCREMENT",
    "BusinessRejectReason": "18:INVALID_PRICE_INCREMENT",
    "LastLiquidityInd": "4:AUCTION",
}

# --------------------------------------------------------------------------- layout DSL
# "Name" optional field, "Name*" required field, "@Comp" / "@Comp*" component,
# ("NoX", [...]) / ("NoX*", [...]) repeating group (first member = delimiter).
Member = str | tuple[str, list["Member"]]

HEADER_44: list[Member] = [
    "BeginString*",
    "BodyLength*",
    "MsgType*",
    "SenderCompID*",
    "TargetCompID*",
    "OnBehalfOfCompID",
    "DeliverToCompID",
    "SecureDataLen",
    "SecureData",
    "MsgSeqNum*",
    "SenderSubID",
    "SenderLocationID",
    "TargetSubID",
    "TargetLocationID",
    "OnBehalfOfSubID",
    "OnBehalfOfLocationID",
    "DeliverToSubID",
    "DeliverToLocationID",
    "PossDupFlag",
    "PossResend",
    "SendingTime*",
    "OrigSendingTime",
    "XmlDataLen",
    "XmlData",
    "MessageEncoding",
    "LastMsgSeqNumProcessed",
    ("NoHops", ["HopCompID", "HopSendingTime", "HopRefID"]),
]
HEADER_T11: list[Member] = [
    *HEADER_44[:3],
    "ApplVerID",
    "CstmApplVerID",
    "ApplExtID",
    *HEADER_44[3:],
]
TRAILER: list[Member] = ["SignatureLength", "Signature", "CheckSum*"]

COMPONENTS: dict[str, list[Member]] = {
    "PegInstructions": ["PegOffsetValue", "PegPriceType"],
    "DiscretionInstructions": ["DiscretionInst", "DiscretionOffsetValue"],
    "Parties": [
        (
            "NoPartyIDs",
            [
                "PartyID",
                "PartyIDSource",
                "PartyRole",
                ("NoPartySubIDs", ["PartySubID", "PartySubIDType"]),
            ],
        ),
    ],
    "Instrument": [
        "Symbol*",
        "SymbolSfx",
        "SecurityID",
        "SecurityIDSource",
        ("NoSecurityAltID", ["SecurityAltID", "SecurityAltIDSource"]),
        "Product",
        "CFICode",
        "SecurityType",
        "MaturityMonthYear",
        "MaturityDate",
        "StrikePrice",
        "SecurityExchange",
        "SecurityDesc",
    ],
    "OrderQtyData": [
        "OrderQty",
        "CashOrderQty",
        "OrderPercent",
        "RoundingDirection",
        "RoundingModulus",
    ],
    "CommissionData": ["Commission", "CommType"],
    "TrdgSesGrp": [("NoTradingSessions", ["TradingSessionID", "TradingSessionSubID"])],
    "StrategyParametersGrp": [
        (
            "NoStrategyParameters",
            ["StrategyParameterName", "StrategyParameterType", "StrategyParameterValue"],
        )
    ],
}

TEXT: list[Member] = ["Text", "EncodedTextLen", "EncodedText"]

ADMIN: list[tuple[str, str, list[Member]]] = [
    ("Heartbeat", "0", ["TestReqID"]),
    ("TestRequest", "1", ["TestReqID*"]),
    ("ResendRequest", "2", ["BeginSeqNo*", "EndSeqNo*"]),
    ("Reject", "3", ["RefSeqNum*", "RefTagID", "RefMsgType", "SessionRejectReason", *TEXT]),
    ("SequenceReset", "4", ["GapFillFlag", "NewSeqNo*"]),
    ("Logout", "5", TEXT),
    (
        "Logon",
        "A",
        [
            "EncryptMethod*",
            "HeartBtInt*",
            "RawDataLength",
            "RawData",
            "ResetSeqNumFlag",
            "NextExpectedMsgSeqNum",
            "MaxMessageSize",
            ("NoMsgTypes", ["RefMsgType", "MsgDirection"]),
            "TestMessageIndicator",
            "Username",
            "Password",
        ],
    ),
]

ADMIN_T11_EXTRA: dict[str, list[Member]] = {
    "Logon": ["NewPassword", "SessionStatus", "DefaultApplVerID*"],
    "Logout": ["SessionStatus"],
}

APP: list[tuple[str, str, list[Member]]] = [
    (
        "ExecutionReport",
        "8",
        [
            "OrderID*",
            "SecondaryOrderID",
            "SecondaryClOrdID",
            "SecondaryExecID",
            "ClOrdID",
            "OrigClOrdID",
            "ClOrdLinkID",
            "@Parties",
            "ListID",
            "ExecID*",
            "ExecRefID",
            "ExecType*",
            "OrdStatus*",
            "WorkingIndicator",
            "OrdRejReason",
            "ExecRestatementReason",
            "Account",
            "AcctIDSource",
            "AccountType",
            "SettlType",
            "SettlDate",
            "CashMargin",
            "@Instrument*",
            "Side*",
            "@OrderQtyData",
            "OrdType",
            "PriceType",
            "Price",
            "StopPx",
            "Currency",
            "ComplianceID",
            "TimeInForce",
            "EffectiveTime",
            "ExpireDate",
            "ExpireTime",
            "ExecInst",
            "OrderCapacity",
            "LastQty",
            "LastPx",
            "LastMkt",
            "TradingSessionID",
            "LastCapacity",
            "LeavesQty*",
            "CumQty*",
            "AvgPx*",
            "TradeDate",
            "TransactTime",
            "ReportToExch",
            "@CommissionData",
            "MaxFloor",
            "MaxShow",
            "@PegInstructions",
            "@DiscretionInstructions",
            *TEXT,
            "LastLiquidityInd",
            "CopyMsgIndicator",
            "PositionEffect",
            "MinQty",
        ],
    ),
    (
        "OrderCancelReject",
        "9",
        [
            "OrderID*",
            "SecondaryOrderID",
            "SecondaryClOrdID",
            "ClOrdID*",
            "ClOrdLinkID",
            "OrigClOrdID*",
            "OrdStatus*",
            "WorkingIndicator",
            "OrigOrdModTime",
            "ListID",
            "Account",
            "AcctIDSource",
            "AccountType",
            "TradeOriginationDate",
            "TradeDate",
            "TransactTime",
            "CxlRejResponseTo*",
            "CxlRejReason",
            *TEXT,
        ],
    ),
    (
        "NewOrderSingle",
        "D",
        [
            "ClOrdID*",
            "SecondaryClOrdID",
            "ClOrdLinkID",
            "IOIID",
            "@Parties",
            "TradeOriginationDate",
            "TradeDate",
            "Account",
            "AcctIDSource",
            "AccountType",
            "SettlType",
            "SettlDate",
            "CashMargin",
            "HandlInst",
            "ExecInst",
            "MinQty",
            "MaxFloor",
            "ExDestination",
            "@TrdgSesGrp",
            "@Instrument*",
            "Side*",
            "TransactTime*",
            "@OrderQtyData*",
            "OrdType*",
            "PriceType",
            "Price",
            "StopPx",
            "Currency",
            "ComplianceID",
            "TimeInForce",
            "EffectiveTime",
            "ExpireDate",
            "ExpireTime",
            "@CommissionData",
            "OrderCapacity",
            *TEXT,
            "PositionEffect",
            "MaxShow",
            "@PegInstructions",
            "@DiscretionInstructions",
            "TargetStrategy",
            "@StrategyParametersGrp",
            "TargetStrategyParameters",
            "ParticipationRate",
        ],
    ),
    (
        "OrderCancelRequest",
        "F",
        [
            "OrigClOrdID*",
            "OrderID",
            "ClOrdID*",
            "SecondaryClOrdID",
            "ClOrdLinkID",
            "ListID",
            "OrigOrdModTime",
            "Account",
            "AcctIDSource",
            "AccountType",
            "@Parties",
            "@Instrument*",
            "Side*",
            "TransactTime*",
            "@OrderQtyData",
            "ComplianceID",
            *TEXT,
        ],
    ),
    (
        "OrderCancelReplaceRequest",
        "G",
        [
            "OrderID",
            "@Parties",
            "TradeOriginationDate",
            "TradeDate",
            "OrigClOrdID*",
            "ClOrdID*",
            "SecondaryClOrdID",
            "ClOrdLinkID",
            "ListID",
            "OrigOrdModTime",
            "Account",
            "AcctIDSource",
            "AccountType",
            "SettlType",
            "SettlDate",
            "CashMargin",
            "HandlInst",
            "ExecInst",
            "MinQty",
            "MaxFloor",
            "ExDestination",
            "@TrdgSesGrp",
            "@Instrument*",
            "Side*",
            "TransactTime*",
            "@OrderQtyData*",
            "OrdType*",
            "PriceType",
            "Price",
            "StopPx",
            "TimeInForce",
            "EffectiveTime",
            "ExpireDate",
            "ExpireTime",
            "@CommissionData",
            "OrderCapacity",
            "Currency",
            "ComplianceID",
            *TEXT,
            "PositionEffect",
            "MaxShow",
            "@PegInstructions",
            "@DiscretionInstructions",
            "TargetStrategy",
            "@StrategyParametersGrp",
            "TargetStrategyParameters",
            "ParticipationRate",
        ],
    ),
    (
        "OrderStatusRequest",
        "H",
        [
            "OrderID",
            "ClOrdID*",
            "SecondaryClOrdID",
            "ClOrdLinkID",
            "@Parties",
            "OrdStatusReqID",
            "Account",
            "AcctIDSource",
            "@Instrument*",
            "Side*",
        ],
    ),
    (
        "BusinessMessageReject",
        "j",
        ["RefSeqNum", "RefMsgType*", "BusinessRejectRefID", "BusinessRejectReason*", *TEXT],
    ),
    # indications of interest (docs/settlement.md "Indications of interest")
    (
        "IOI",
        "6",
        [
            "IOIID*",
            "IOITransType*",
            "IOIRefID",
            "@Instrument*",
            "Side*",
            "Currency",
            "IOIQty*",
            "Price",
            "ValidUntilTime",
            "IOIQltyInd",
            "IOINaturalFlag",
            "Text",
            "TransactTime",
        ],
    ),
    # block allocations, the fields execflow uses (docs/settlement.md "Allocations")
    (
        "AllocationInstruction",
        "J",
        [
            "AllocID*",
            "AllocTransType*",
            "AllocType*",
            "RefAllocID",
            "AllocNoOrdersType*",
            ("NoOrders", ["ClOrdID", "OrderID", "OrderQty"]),
            "Side*",
            "@Instrument*",
            "Quantity*",
            "AvgPx*",
            "Currency",
            "TradeDate*",
            "TransactTime",
            "SettlDate",
            "Text",
            ("NoAllocs", ["AllocAccount", "AllocQty"]),
        ],
    ),
    (
        "AllocationInstructionAck",
        "P",
        [
            "AllocID*",
            "TradeDate",
            "TransactTime*",
            "AllocStatus*",
            "AllocRejCode",
            "AllocType",
            "Text",
            ("NoAllocs", ["AllocAccount", "IndividualAllocRejCode"]),
        ],
    ),
    (
        "Confirmation",
        "AK",
        [
            "ConfirmID*",
            "ConfirmRefID",
            "AllocID",
            "ConfirmTransType*",
            "ConfirmType*",
            "ConfirmStatus*",
            "TransactTime*",
            "TradeDate*",
            ("NoCapacities*", ["OrderCapacity*", "OrderCapacityQty*"]),
            "AllocAccount*",
            "AllocQty*",
            "Side*",
            "@Instrument*",
            "Currency",
            "AvgPx*",
            "GrossTradeAmt*",
            "SettlDate",
            "NetMoney*",
            "Text",
        ],
    ),
]

APP_50_EXTRA: dict[str, list[Member]] = {
    "ExecutionReport": ["AggressorIndicator"],
}


# --------------------------------------------------------------------------- writer
def _flag(name: str) -> tuple[str, str]:
    return (name[:-1], "Y") if name.endswith("*") else (name, "N")


def _members(parent: ET.Element, members: list[Member]) -> None:
    for m in members:
        if isinstance(m, tuple):
            gname, req = _flag(m[0])
            g = ET.SubElement(parent, "group", name=gname, required=req)
            _members(g, m[1])
        elif m.startswith("@"):
            cname, req = _flag(m[1:])
            ET.SubElement(parent, "component", name=cname, required=req)
        else:
            fname, req = _flag(m)
            ET.SubElement(parent, "field", name=fname, required=req)


def _used_names(members: list[Member], out: set[str]) -> None:
    for m in members:
        if isinstance(m, tuple):
            out.add(_flag(m[0])[0])
            _used_names(m[1], out)
        elif m.startswith("@"):
            _used_names(COMPONENTS[_flag(m[1:])[0]], out)
        else:
            out.add(_flag(m)[0])


#: The application MsgTypes each version defines beyond the messages described above: MsgType
#: (35) enumerates them, so a session can tell a MsgType the version does not define (session
#: Reject 373=11) from one this dictionary only does not describe (the application decides,
#: BusinessMessageReject 380=3 when it does not handle it).
OTHER_MSG_TYPES_44 = (
    "6:IOI 7:ADVERTISEMENT B:NEWS C:EMAIL E:NEWORDERLIST J:ALLOCATIONINSTRUCTION "
    "K:LISTCANCELREQUEST L:LISTEXECUTE M:LISTSTATUSREQUEST N:LISTSTATUS "
    "P:ALLOCATIONINSTRUCTIONACK Q:DONTKNOWTRADE R:QUOTEREQUEST S:QUOTE "
    "T:SETTLEMENTINSTRUCTIONS V:MARKETDATAREQUEST W:MARKETDATASNAPSHOTFULLREFRESH "
    "X:MARKETDATAINCREMENTALREFRESH Y:MARKETDATAREQUESTREJECT Z:QUOTECANCEL "
    "a:QUOTESTATUSREQUEST b:MASSQUOTEACKNOWLEDGEMENT c:SECURITYDEFINITIONREQUEST "
    "d:SECURITYDEFINITION e:SECURITYSTATUSREQUEST f:SECURITYSTATUS "
    "g:TRADINGSESSIONSTATUSREQUEST h:TRADINGSESSIONSTATUS i:MASSQUOTE k:BIDREQUEST "
    "l:BIDRESPONSE m:LISTSTRIKEPRICE n:XMLNONFIX o:REGISTRATIONINSTRUCTIONS "
    "p:REGISTRATIONINSTRUCTIONSRESPONSE q:ORDERMASSCANCELREQUEST r:ORDERMASSCANCELREPORT "
    "s:NEWORDERCROSS t:CROSSORDERCANCELREPLACEREQUEST u:CROSSORDERCANCELREQUEST "
    "v:SECURITYTYPEREQUEST w:SECURITYTYPES x:SECURITYLISTREQUEST y:SECURITYLIST "
    "z:DERIVATIVESECURITYLISTREQUEST AA:DERIVATIVESECURITYLIST AB:NEWORDERMULTILEG "
    "AC:MULTILEGORDERCANCELREPLACE AD:TRADECAPTUREREPORTREQUEST AE:TRADECAPTUREREPORT "
    "AF:ORDERMASSSTATUSREQUEST AG:QUOTEREQUESTREJECT AH:RFQREQUEST AI:QUOTESTATUSREPORT "
    "AJ:QUOTERESPONSE AK:CONFIRMATION AL:POSITIONMAINTENANCEREQUEST "
    "AM:POSITIONMAINTENANCEREPORT AN:REQUESTFORPOSITIONS AO:REQUESTFORPOSITIONSACK "
    "AP:POSITIONREPORT AQ:TRADECAPTUREREPORTREQUESTACK AR:TRADECAPTUREREPORTACK "
    "AS:ALLOCATIONREPORT AT:ALLOCATIONREPORTACK AU:CONFIRMATIONACK "
    "AV:SETTLEMENTINSTRUCTIONREQUEST AW:ASSIGNMENTREPORT AX:COLLATERALREQUEST "
    "AY:COLLATERALASSIGNMENT AZ:COLLATERALRESPONSE BA:COLLATERALREPORT BB:COLLATERALINQUIRY "
    "BC:NETWORKCOUNTERPARTYSYSTEMSTATUSREQUEST BD:NETWORKCOUNTERPARTYSYSTEMSTATUSRESPONSE "
    "BE:USERREQUEST BF:USERRESPONSE BG:COLLATERALINQUIRYACK BH:CONFIRMATIONREQUEST "
)
OTHER_MSG_TYPES_50 = OTHER_MSG_TYPES_44 + (
    "BI:TRADINGSESSIONLISTREQUEST BJ:TRADINGSESSIONLIST BK:SECURITYLISTUPDATEREPORT "
    "BL:ADJUSTEDPOSITIONREPORT BM:ALLOCATIONINSTRUCTIONALERT BN:EXECUTIONACKNOWLEDGEMENT "
    "BO:CONTRARYINTENTIONREPORT BP:SECURITYDEFINITIONUPDATEREPORT "
    "BQ:SETTLEMENTOBLIGATIONREPORT BR:DERIVATIVESECURITYLISTUPDATEREPORT "
    "BS:TRADINGSESSIONLISTUPDATEREPORT BT:MARKETDEFINITIONREQUEST BU:MARKETDEFINITION "
    "BV:MARKETDEFINITIONUPDATEREPORT BW:APPLICATIONMESSAGEREQUEST "
    "BX:APPLICATIONMESSAGEREQUESTACK BY:APPLICATIONMESSAGEREPORT BZ:ORDERMASSACTIONREPORT "
    "CA:ORDERMASSACTIONREQUEST CB:USERNOTIFICATION CC:STREAMASSIGNMENTREQUEST "
    "CD:STREAMASSIGNMENTREPORT CE:STREAMASSIGNMENTREPORTACK "
)


def build(version: str) -> ET.Element:
    """Build the dictionary tree for "FIX44", "FIXT11" or "FIX50SP2"."""
    if version == "FIX44":
        root = ET.Element("fix", type="FIX", major="4", minor="4", servicepack="0")
        header, trailer = HEADER_44, TRAILER
        messages = [(n, t, "admin", b) for n, t, b in ADMIN] + [(n, t, "app", b) for n, t, b in APP]
        fields = FIELDS
        extra_enums: dict[str, str] = {}
        other_types = OTHER_MSG_TYPES_44
    elif version == "FIXT11":
        root = ET.Element("fix", type="FIXT", major="1", minor="1", servicepack="0")
        header, trailer = HEADER_T11, TRAILER
        messages = [(n, t, "admin", b + ADMIN_T11_EXTRA.get(n, [])) for n, t, b in ADMIN]
        fields = FIELDS + FIELDS_50
        extra_enums = {}
        other_types = ""
    elif version == "FIX50SP2":
        root = ET.Element("fix", type="FIX", major="5", minor="0", servicepack="2")
        header, trailer = [], []
        messages = [(n, t, "app", b + APP_50_EXTRA.get(n, [])) for n, t, b in APP]
        fields = FIELDS + FIELDS_50
        extra_enums = ENUMS_50_EXTRA
        other_types = OTHER_MSG_TYPES_50
    else:
        raise ValueError(version)

    used: set[str] = set()
    _members(ET.SubElement(root, "header"), header)
    _used_names(header, used)
    msgs_el = ET.SubElement(root, "messages")
    for name, msgtype, cat, body in messages:
        el = ET.SubElement(msgs_el, "message", name=name, msgtype=msgtype, msgcat=cat)
        _members(el, body)
        _used_names(body, used)
    _members(ET.SubElement(root, "trailer"), trailer)
    _used_names(trailer, used)

    comps_el = ET.SubElement(root, "components")
    needed = sorted(
        {
            m[1:].rstrip("*")
            for _, _, _, b in messages
            for m in b
            if isinstance(m, str) and m.startswith("@")
        }
    )
    for cname in needed:
        _members(ET.SubElement(comps_el, "component", name=cname), COMPONENTS[cname])

    fields_el = ET.SubElement(root, "fields")
    described = {t for _, t, _, _ in messages}
    msgtype_enums = " ".join(
        [f"{t}:{n.upper()}" for n, t, _, _ in messages]
        + [item for item in other_types.split() if item.split(":")[0] not in described]
    )
    for tag, name, ftype, enums in sorted(fields):
        if name not in used and name != "MsgType":
            continue
        fe = ET.SubElement(fields_el, "field", number=str(tag), name=name, type=ftype)
        spec = msgtype_enums if name == "MsgType" else enums
        if name in extra_enums:
            spec = f"{spec} {extra_enums[name]}"
        for item in spec.split():
            value, _, desc = item.partition(":")
            ET.SubElement(fe, "value", enum=value, description=desc)
    return root


def render(version: str) -> str:
    root = build(version)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="unicode") + "\n"


VERSIONS = ("FIX44", "FIXT11", "FIX50SP2")


def main(argv: list[str]) -> int:
    out = (
        Path(argv[1])
        if len(argv) > 1
        else (Path(__file__).resolve().parent.parent / "src" / "execflow" / "fix" / "spec")
    )
    out.mkdir(parents=True, exist_ok=True)
    for v in VERSIONS:
        (out / f"{v}.xml").write_text(render(v), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
